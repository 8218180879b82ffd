/**
 * The training scheduler: hands out units under leases, accepts validated updates durably, and
 * turns them into versions with the job's strategy. Synchronous strategies (fedavg, diloco) open
 * rounds that close when a quorum of their units is in or their deadline passes; `buffered` has
 * a pool of units instead and makes a version every bufferSize accepted updates (see pool.ts).
 * Leases follow each contributor's measured speed (speed.ts). One instance per coordinator; all
 * state that must survive a crash goes through the Store before it is acknowledged.
 */
import { randomUUID } from 'node:crypto';
import {
  type DataSpec,
  GridTabError,
  strategyOf,
  type UnitOffer,
  type UpdateAck,
  type UpdateMeta,
  type VersionEvent,
  type WorkUnit,
} from '@gridtab/shared';
import { decodeUpdate } from '../aggregation/decode-update.ts';
import { validateUpdate } from '../aggregation/validate.ts';
import type { Clock } from '../clock.ts';
import { type JobOwnership, LocalOwnership } from '../cluster/ownership.ts';
import { dataSpecOf } from '../datasets/data-spec.ts';
import type { Evaluator } from '../evaluation/evaluator.ts';
import type { SpotChecks } from '../reputation/spot-check.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import {
  type JobRecord,
  StaleRoundError,
  type Store,
  type UpdateRecord,
  type VersionRecord,
} from '../storage/store.ts';
import type { UsageMeter } from '../usage/meter.ts';
import { type CommitDeps, commitVersion, isBuffered } from './commit.ts';
import { type PoolState, restoreUnits, takeUnit } from './pool.ts';
import { type Lease, type RoundState, type UnitState, unitId } from './round.ts';
import { afterRound, type PositionQueue, planShards, queueBefore, takePositions } from './shard-plan.ts';
import { SpeedBook } from './speed.ts';

export interface SchedulerEvents {
  /** A round opened or a unit was freed. */
  unitsAvailable(): void;
  versionCommitted(event: VersionEvent): void;
  /** jobId is null when the update named no lease this coordinator holds. */
  updateRejected(code: string, jobId: string | null): void;
  updateAccepted(numSamples: number): void;
  roundClosed(seconds: number): void;
}

export interface SchedulerDeps {
  store: Store;
  blobs: BlobStore;
  clock: Clock;
  evaluator: Evaluator;
  events: SchedulerEvents;
  log: (msg: string) => void;
  /** Spot-checks and quarantine (reputation/); absent: no checks. */
  spotChecks?: SpotChecks;
  /**
   * Whether a job stops after this round and waits, paused, for someone to resume it (a sweep's
   * trial at an ASHA rung). Asked when the round's version commits, so the pause is part of
   * the same store write and no unit of the next round goes out.
   */
  holdAfter?: CommitDeps['holdAfter'];
  /** Which jobs this process runs; default: all of them (one coordinator). */
  ownership?: JobOwnership;
  /** Usage accounting (usage/meter.ts); absent: nothing is metered. */
  meter?: UsageMeter;
}

const RETRY_MS = 2000;
/** How long past its deadline a lease of a closed round is still recognised (then LEASE_UNKNOWN). */
const RETIRED_MS = 10 * 60_000;

export class Scheduler {
  private readonly rounds = new Map<string, RoundState>();
  private readonly pools = new Map<string, PoolState>();
  private readonly leases = new Map<string, Lease>();
  private readonly closings = new Set<Promise<void>>();
  readonly speeds = new SpeedBook();
  /** Rounds being opened, so a takeover and a commit cannot open the same job twice. */
  private readonly opening = new Map<string, Promise<void>>();
  /**
   * Update inserts in flight per job and round (a buffered job's version being filled counts as
   * a round): making the version waits for them before it reads.
   */
  private readonly inserts = new Map<string, Set<Promise<boolean>>>();
  private readonly ownership: JobOwnership;
  /**
   * Where each job stands in its shard plan before its next round, kept when a round closes so
   * opening the next one need not replay every committed version (a restart does).
   */
  private readonly queues = new Map<string, { round: number; queue: PositionQueue }>();
  /**
   * Leases of rounds that closed, so their holders hear STALE_VERSION rather than LEASE_UNKNOWN;
   * kept for two rounds.
   */
  private readonly retired = new Map<string, Lease>();
  /**
   * The jobs this process runs, as last read from the store after its own last write to them, so
   * that a unit request or a submit need not read the store each time. Alone (LocalOwnership)
   * every change of a job goes through this scheduler (setStatus, commits), so the copy cannot go
   * stale. With several processes it is not used: an admin's pause or cancel may land on another
   * process, which writes the store without telling the owner, so the hot path reads the store.
   */
  private readonly jobs = new Map<string, JobRecord>();
  /** Bumped by each write to a job here: a read begun before it does not refresh `jobs`. */
  private readonly jobWrites = new Map<string, number>();
  /** Each pool's shard lookup, made once when the pool opens (a dataset does not change). */
  private readonly poolShards = new Map<string, (index: number) => string[]>();
  /** Per job: the data spec its units carry (dataset versions are immutable, so it never changes). */
  private readonly dataSpecs = new Map<string, DataSpec>();

  constructor(private readonly deps: SchedulerDeps) {
    this.ownership = deps.ownership ?? new LocalOwnership();
    this.ownership.onLost((jobId) => this.drop(jobId));
  }

  /** Forgets a job's open round or pool and its leases (another process owns the job now). */
  private drop(jobId: string): void {
    this.rounds.delete(jobId);
    this.pools.delete(jobId);
    this.queues.delete(jobId);
    this.poolShards.delete(jobId);
    this.forgetJob(jobId);
    for (const l of [...this.leases.values()]) if (l.jobId === jobId) this.leases.delete(l.leaseId);
    for (const l of [...this.retired.values()]) if (l.jobId === jobId) this.retired.delete(l.leaseId);
  }

  /** The job as this process knows it (see `jobs`); the store when it does not. */
  private async jobOf(jobId: string): Promise<JobRecord | null> {
    return (this.ownership.shared ? undefined : this.jobs.get(jobId)) ?? this.readJob(jobId);
  }

  /** Reads the job from the store and keeps it, unless this process wrote the job meanwhile. */
  private async readJob(jobId: string): Promise<JobRecord | null> {
    const writes = this.jobWrites.get(jobId) ?? 0;
    const job = await this.deps.store.getJob(jobId);
    if (job && !this.ownership.shared && (this.jobWrites.get(jobId) ?? 0) === writes)
      this.jobs.set(jobId, job);
    return job;
  }

  /** After a write to the job here: the copy is gone, and reads begun before it are not kept. */
  private forgetJob(jobId: string): void {
    this.jobWrites.set(jobId, (this.jobWrites.get(jobId) ?? 0) + 1);
    this.jobs.delete(jobId);
  }

  /** Rebuilds open rounds and pools for running jobs from the store (after a start or a crash). */
  async init(): Promise<void> {
    for (const job of await this.deps.store.listJobs()) {
      if (job.status === 'running') await this.openRound(job);
    }
  }

  /** Starts handing out a running job's units: its round, or its pool for `buffered`. */
  async openRound(job: JobRecord): Promise<void> {
    const pending = this.opening.get(job.id);
    if (pending) return pending;
    const p = this.openOwnedRound(job).finally(() => this.opening.delete(job.id));
    this.opening.set(job.id, p);
    return p;
  }

  private async openOwnedRound(job: JobRecord): Promise<void> {
    // Only the job's owner runs its rounds; the others send contributors there.
    if (!(await this.ownership.claim(job.id))) return;
    if (isBuffered(job)) return this.openPool(job);
    const { store, blobs, clock } = this.deps;
    const version = job.versionId ? await store.getVersion(job.versionId) : null;
    const dataset = await store.getDataset(job.spec.dataset);
    if (!version || !dataset) throw new Error(`job ${job.id} has no base version or dataset`);
    this.dataSpecs.set(job.id, dataSpecOf(dataset, job.spec.hyperparameters.loss));
    const baseBytes = await blobs.get(version.hash);
    if (!baseBytes) throw new Error(`weights ${version.hash} of version ${version.id} are missing`);
    const { unitsPerRound } = job.spec.rounds;
    const hp = job.spec.hyperparameters;
    const plan = planShards(
      dataset.shardHashes.length,
      dataset.shardSize,
      hp.batchSize * hp.localSteps,
      job.spec.seed,
    );
    const done = new Set((await store.listUpdates(job.id, job.round)).map((u) => u.unitId));
    const queue = await this.queueOf(job);
    const positions = takePositions(queue, unitsPerRound);
    for (const l of [...this.retired.values()])
      if (l.jobId === job.id && l.round < job.round - 2) this.retired.delete(l.leaseId);
    const round: RoundState = {
      jobId: job.id,
      round: job.round,
      baseVersionId: version.id,
      baseHash: version.hash,
      paramCount: baseBytes.byteLength / 4,
      openedAt: clock.now(),
      closing: false,
      queue,
      late: new Map(),
      units: Array.from({ length: unitsPerRound }, (_, i) => {
        const id = unitId(job.id, job.round, i);
        const shards = plan.shardsFor(positions[i]);
        return {
          id,
          index: i,
          shardHashes: shards.map((s) => dataset.shardHashes[s]),
          status: done.has(id) ? ('done' as const) : ('pending' as const),
          lease: null,
        };
      }),
    };
    this.rounds.set(job.id, round);
    this.deps.log(
      `job ${job.id}: round ${job.round} open on ${version.id} (${done.size}/${unitsPerRound} done)`,
    );
    if (this.quorumReached(job, round)) this.startClosing(job, round);
    else this.deps.events.unitsAvailable();
  }

  /**
   * The job's place in its shard plan before its current round: kept from the round before, or
   * replayed from the unit ids of its committed versions (the same after a restart).
   */
  private async queueOf(job: JobRecord): Promise<PositionQueue> {
    const kept = this.queues.get(job.id);
    if (kept?.round === job.round) return kept.queue;
    const { unitsPerRound } = job.spec.rounds;
    const aggregated = new Map<number, Set<string>>();
    for (const v of await this.deps.store.listVersions(job.id)) aggregated.set(v.round, new Set(v.unitIds));
    return queueBefore(job.round, unitsPerRound, (r) =>
      this.deliveredIn(job.id, r, unitsPerRound, aggregated.get(r)),
    );
  }

  /** Indices of a round's units among aggregated unit ids (a round with no version: all of them). */
  private deliveredIn(jobId: string, round: number, unitsPerRound: number, ids?: Set<string>): Set<number> {
    const indices = new Set<number>();
    for (let i = 0; i < unitsPerRound; i++) if (!ids || ids.has(unitId(jobId, round, i))) indices.add(i);
    return indices;
  }

  async requestUnit(contributorId: string): Promise<UnitOffer> {
    // Robustness hook: a quarantined contributor gets no work (a store read at most every few seconds).
    if (await this.deps.spotChecks?.isQuarantined(contributorId)) throw new GridTabError('QUARANTINED');
    // Fairness across jobs: the one with the fewest units in flight goes first.
    type Source = { jobId: string; round?: RoundState; pool?: PoolState };
    const open = [
      ...[...this.rounds.values()]
        .filter((r) => !r.closing)
        .map((r): Source => ({ jobId: r.jobId, round: r })),
      ...[...this.pools.values()].map((p): Source => ({ jobId: p.jobId, pool: p })),
    ];
    const jobs = await Promise.all(open.map((c) => this.jobOf(c.jobId)));
    const shardsFor = new Map<string, (index: number) => string[]>();
    for (const [i, c] of open.entries()) {
      if (c.pool && jobs[i])
        shardsFor.set(c.jobId, this.poolShards.get(c.jobId) ?? (await this.shardsFor(jobs[i])));
    }
    const now = this.deps.clock.now();
    const sources = open
      .map((c, i) => ({ ...c, job: jobs[i] }))
      .filter((c) => c.job?.status === 'running')
      .sort((a, b) => this.inFlight(a.jobId) - this.inFlight(b.jobId));
    for (const c of sources) {
      const job = c.job!;
      // A round may have started closing, or a pool been dropped, while the jobs were read.
      if (c.round?.closing || (c.round && this.rounds.get(c.jobId) !== c.round)) continue;
      if (c.pool && this.pools.get(c.jobId) !== c.pool) continue;
      let unit: UnitState | undefined;
      let base: { id: string; hash: string; round: number };
      let round: number;
      if (c.round) {
        unit = c.round.units.find((u) => u.status === 'pending');
        base = { id: c.round.baseVersionId, hash: c.round.baseHash, round: c.round.round - 1 };
        round = c.round.round;
      } else {
        const pool = c.pool!;
        unit = takeUnit(pool, shardsFor.get(job.id)!);
        base = pool.version;
        round = pool.round;
      }
      if (!unit) continue;
      const hp = job.spec.hyperparameters;
      const samples = hp.batchSize * hp.localSteps;
      const lease: Lease = {
        leaseId: `l-${randomUUID()}`,
        jobId: job.id,
        round,
        unitId: unit.id,
        contributorId,
        deadline: now + this.speeds.leaseMs(contributorId, samples, job.spec.rounds),
        issuedAt: now,
        baseVersionId: base.id,
        baseRound: base.round,
      };
      unit.status = 'leased';
      unit.lease = lease;
      this.leases.set(lease.leaseId, lease);
      const strategy = strategyOf(job.spec);
      const workUnit: WorkUnit = {
        unitId: unit.id,
        leaseId: lease.leaseId,
        jobId: job.id,
        round,
        baseVersionId: base.id,
        baseWeightsHash: base.hash,
        model: job.spec.model,
        datasetId: job.spec.dataset,
        data: this.dataSpecs.get(job.id)!,
        shardHashes: unit.shardHashes,
        batchSize: hp.batchSize,
        localSteps: hp.localSteps,
        learningRate: hp.learningRate,
        // DiLoCo's inner optimizer is AdamW, whatever the hyperparameters name.
        optimizer: strategy.name === 'diloco' ? 'adamw' : hp.optimizer,
        ...(strategy.name === 'diloco' ? { weightDecay: strategy.weightDecay } : {}),
        seed: job.spec.seed * 1_000_003 + round * 1009 + unit.index,
        // Jobs stored before codecs existed have none: they were fp32.
        codec: job.spec.codec ?? { name: 'fp32' },
        deadline: lease.deadline,
      };
      lease.unit = workUnit;
      return { unit: workUnit };
    }
    return { unit: null, retryMs: RETRY_MS, ...(await this.redirect()) };
  }

  /** With several coordinators: the owner of a running job this process does not run. */
  private async redirect(): Promise<{ redirect?: string }> {
    if (!this.ownership.shared) return {};
    for (const job of await this.deps.store.listJobs()) {
      if (job.status !== 'running' || this.rounds.has(job.id) || this.pools.has(job.id)) continue;
      const url = await this.ownership.ownerUrl(job.id);
      if (url && url !== this.ownership.selfUrl) return { redirect: url };
    }
    return {};
  }

  /** The shard hashes of a job's unit at a global index of its shard plan. */
  private async shardsFor(job: JobRecord): Promise<(index: number) => string[]> {
    const dataset = await this.deps.store.getDataset(job.spec.dataset);
    if (!dataset) throw new Error(`job ${job.id} has no dataset`);
    this.dataSpecs.set(job.id, dataSpecOf(dataset, job.spec.hyperparameters.loss));
    const hp = job.spec.hyperparameters;
    const plan = planShards(
      dataset.shardHashes.length,
      dataset.shardSize,
      hp.batchSize * hp.localSteps,
      job.spec.seed,
    );
    return (index) => plan.shardsFor(index).map((s) => dataset.shardHashes[s]);
  }

  private inFlight(jobId: string): number {
    let n = 0;
    for (const l of this.leases.values()) if (l.jobId === jobId) n++;
    return n;
  }

  /** Validates and durably stores an update; throws GridTabError with the refusal code. */
  async submit(contributorId: string, meta: UpdateMeta, payload: Uint8Array): Promise<UpdateAck> {
    const jobId = this.findLease(meta.leaseId)?.jobId ?? null;
    try {
      return await this.accept(contributorId, meta, payload);
    } catch (e) {
      if (e instanceof GridTabError) this.deps.events.updateRejected(e.code, jobId);
      throw e;
    }
  }

  private async accept(contributorId: string, meta: UpdateMeta, payload: Uint8Array): Promise<UpdateAck> {
    const lease = this.findLease(meta.leaseId);
    if (!lease || lease.contributorId !== contributorId || lease.unitId !== meta.unitId) {
      throw new GridTabError('LEASE_UNKNOWN');
    }
    const job = await this.jobOf(lease.jobId);
    if (job?.status !== 'running') throw new GridTabError('JOB_NOT_RUNNING');
    // Robustness hook: quarantined while training; the unit goes back to the pool.
    if (await this.deps.spotChecks?.isQuarantined(contributorId)) {
      if (this.leases.has(lease.leaseId)) this.expire(lease);
      this.forget(lease);
      throw new GridTabError('QUARANTINED');
    }
    const pool = this.pools.get(job.id);
    if (pool) return this.acceptIntoPool(job, pool, lease, meta, payload);
    return this.acceptIntoRound(job, lease, meta, payload);
  }

  /** A live lease, else a late one (kept by its pool or open round), else one of a closed round. */
  private findLease(leaseId: string): Lease | undefined {
    const live = this.leases.get(leaseId);
    if (live) return live;
    for (const pool of this.pools.values()) {
      const late = pool.late.get(leaseId);
      if (late) return late;
    }
    for (const round of this.rounds.values()) {
      const late = round.late.get(leaseId);
      if (late) return late;
    }
    return this.retired.get(leaseId);
  }

  /** Forgets a lease wherever it is kept (used, refused, or released). */
  private forget(lease: Lease): void {
    this.leases.delete(lease.leaseId);
    this.retired.delete(lease.leaseId);
    this.rounds.get(lease.jobId)?.late.delete(lease.leaseId);
    this.pools.get(lease.jobId)?.late.delete(lease.leaseId);
  }

  /**
   * Rounds: an update counts while its round is open, even past its lease's deadline, as long as
   * nobody else's update for the unit came first; then the other holders are too late.
   */
  private async acceptIntoRound(
    job: JobRecord,
    lease: Lease,
    meta: UpdateMeta,
    payload: Uint8Array,
  ): Promise<UpdateAck> {
    const { clock } = this.deps;
    const round = this.rounds.get(lease.jobId);
    if (
      !round ||
      round.round !== lease.round ||
      round.closing ||
      meta.baseVersionId !== round.baseVersionId
    ) {
      this.forget(lease);
      throw new GridTabError('STALE_VERSION');
    }
    const unit = round.units.find((u) => u.id === lease.unitId);
    if (!unit || unit.status === 'done') {
      this.forget(lease);
      throw new GridTabError('LEASE_UNKNOWN', 'this unit already has an accepted update');
    }
    // Past its deadline: the unit goes to someone else, and this result may still be used.
    if (clock.now() > lease.deadline && this.leases.has(lease.leaseId)) this.expire(lease);
    const stored = await this.checkAndStore(job, meta, payload, round.paramCount);
    // The round may have moved on while the blob was written; re-check before committing.
    if (round.closing || this.rounds.get(job.id) !== round) throw new GridTabError('STALE_VERSION');
    // Another holder's update may have been accepted meanwhile (TS keeps the narrowing over await).
    if ((unit as UnitState).status === 'done') {
      this.forget(lease);
      throw new GridTabError('LEASE_UNKNOWN', 'this unit already has an accepted update');
    }
    await this.record(job, lease, meta, stored, round.round);
    unit.status = 'done';
    // Whoever else holds this unit (it was handed out again after a deadline) is now too late.
    if (unit.lease) this.forget(unit.lease);
    unit.lease = null;
    this.forget(lease);
    for (const l of [...round.late.values()]) if (l.unitId === unit.id) round.late.delete(l.leaseId);
    this.deps.events.updateAccepted(meta.numSamples);
    if (this.quorumReached(job, round)) this.startClosing(job, round);
    return { accepted: true, round: round.round };
  }

  /**
   * Buffered: an update is used whatever version it was trained on, within the staleness bound,
   * and even past its lease's deadline as long as nobody else's update for the unit came first.
   */
  private async acceptIntoPool(
    job: JobRecord,
    pool: PoolState,
    lease: Lease,
    meta: UpdateMeta,
    payload: Uint8Array,
  ): Promise<UpdateAck> {
    const { maxStaleness } = strategyOf(job.spec) as { maxStaleness: number };
    if (meta.baseVersionId !== lease.baseVersionId) throw new GridTabError('STALE_VERSION');
    const staleness = pool.version.round - lease.baseRound;
    if (staleness > maxStaleness) {
      this.dropLease(pool, lease);
      throw new GridTabError(
        'STALE_VERSION',
        `the update is ${staleness} versions old; this job uses updates up to ${maxStaleness} old`,
      );
    }
    if (pool.done.has(lease.unitId)) {
      this.dropLease(pool, lease);
      throw new GridTabError('LEASE_UNKNOWN', 'this unit already has an accepted update');
    }
    const stored = await this.checkAndStore(job, meta, payload, pool.paramCount);
    if (this.pools.get(job.id) !== pool) throw new GridTabError('JOB_NOT_RUNNING');
    if (pool.done.has(lease.unitId)) {
      this.dropLease(pool, lease);
      throw new GridTabError('LEASE_UNKNOWN', 'this unit already has an accepted update');
    }
    // While a version is being made from the buffer, new updates fill the next one.
    const round = pool.closing ? pool.round + 1 : pool.round;
    await this.record(job, lease, meta, stored, round);
    pool.done.add(lease.unitId);
    const unit = pool.units.get(lease.unitId);
    pool.units.delete(lease.unitId);
    // Whoever else holds this unit (it was handed out again after a deadline) is now too late.
    if (unit?.lease) this.leases.delete(unit.lease.leaseId);
    this.dropLease(pool, lease);
    // Counted against the pool as it is now (a version may have been made while this was stored):
    // an update for a version already being made, or made, is in it (making waits for inserts).
    if (round === pool.round + 1) pool.overflow++;
    else if (round === pool.round && !pool.closing) pool.buffered++;
    this.deps.events.updateAccepted(meta.numSamples);
    this.maybeClosePool(job, pool);
    return { accepted: true, round };
  }

  /** Checks a payload against the unit and the job (size, codec, shape, finite, norm) and stores it. */
  private async checkAndStore(
    job: JobRecord,
    meta: UpdateMeta,
    payload: Uint8Array,
    paramCount: number,
  ): Promise<{ blobHash: string; values: Float32Array; bytes: number }> {
    // FedAvg weights updates by the samples a tab claims: a claim above what the unit asked for
    // would let one tab outweigh the rest of the round.
    const { batchSize, localSteps } = job.spec.hyperparameters;
    if (meta.numSamples > batchSize * localSteps) {
      throw new GridTabError(
        'BAD_REQUEST',
        `numSamples ${meta.numSamples} is more than the unit's ${localSteps} steps of ${batchSize}`,
      );
    }
    const check = async () => {
      const values = await decodeUpdate(meta, payload, job.spec.codec ?? { name: 'fp32' }, paramCount);
      const decoded = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      const invalid = validateUpdate(decoded, paramCount, job.spec.maxUpdateNorm);
      if (invalid) throw new GridTabError(invalid.code, invalid.message);
      return { values, decoded };
    };
    const { meter } = this.deps;
    const budgeted = job.spec.budget !== undefined;
    const { values, decoded } = meter ? await meter.timeCpu(job.id, check, budgeted) : await check();
    // Stored decoded: aggregation and audits read float32 whatever the job's codec.
    return { blobHash: await this.deps.blobs.put(decoded), values, bytes: payload.byteLength };
  }

  private async record(
    job: JobRecord,
    lease: Lease,
    meta: UpdateMeta,
    { blobHash, values, bytes }: { blobHash: string; values: Float32Array; bytes: number },
    round: number,
  ): Promise<void> {
    const { store, clock } = this.deps;
    const record: UpdateRecord = {
      id: `u-${randomUUID()}`,
      jobId: job.id,
      round,
      unitId: lease.unitId,
      contributorId: lease.contributorId,
      baseVersionId: lease.baseVersionId,
      numSamples: meta.numSamples,
      loss: meta.loss,
      blobHash,
      createdAt: new Date(clock.now()).toISOString(),
    };
    // Tracked so that a version starting to be made now waits for this insert before it reads.
    const inserting = store.insertUpdate(record);
    this.trackInsert(`${job.id}:${round}`, inserting);
    if (!(await inserting))
      throw new GridTabError('LEASE_UNKNOWN', 'this unit already has an accepted update');
    await store.recordContribution(lease.contributorId, meta.numSamples, record.createdAt);
    this.deps.meter?.addUpdate(
      job.id,
      lease.contributorId,
      { ...meta, bytes },
      job.spec.budget !== undefined,
    );
    this.speeds.measure(lease.contributorId, meta.numSamples, clock.now() - lease.issuedAt);
    // Robustness hook: maybe spot-check it (runs in the background; making the version waits).
    if (lease.unit) {
      void this.deps.spotChecks?.afterAccept({
        spec: job.spec,
        record,
        unit: lease.unit,
        backend: meta.backend ?? null,
        delta: values,
      });
    }
  }

  private trackInsert(key: string, p: Promise<boolean>): void {
    const set = this.inserts.get(key) ?? new Set<Promise<boolean>>();
    this.inserts.set(key, set);
    const done = () => {
      set.delete(p);
      if (set.size === 0 && this.inserts.get(key) === set) this.inserts.delete(key);
    };
    p.then(done, done);
    set.add(p);
  }

  private async insertsDone(jobId: string, round: number): Promise<void> {
    await Promise.all(this.inserts.get(`${jobId}:${round}`) ?? []).catch(() => {});
  }

  release(contributorId: string, leaseId: string): boolean {
    const lease = this.findLease(leaseId);
    if (!lease || lease.contributorId !== contributorId) return false;
    if (this.leases.has(leaseId)) this.expire(lease);
    this.forget(lease);
    return true;
  }

  /**
   * A contributor gone past the disconnect grace period: its units go to others at once, but its
   * leases become late ones, so a tab that comes back (a reload resuming its unit from its cache,
   * a long network blip) still has its result used if nobody else delivered the unit first.
   */
  leave(contributorId: string): number {
    const held = [...this.leases.values()].filter((l) => l.contributorId === contributorId);
    for (const lease of held) this.expire(lease);
    return held.length;
  }

  /** Frees every lease a contributor holds for good, late ones included (an admin kicked it). */
  releaseAll(contributorId: string): number {
    const held = [...this.leases.values()].filter((l) => l.contributorId === contributorId);
    for (const lease of held) {
      this.expire(lease);
      this.forget(lease);
    }
    // Nor will its late results come.
    for (const late of [...this.rounds.values(), ...this.pools.values()].map((s) => s.late))
      for (const l of [...late.values()]) if (l.contributorId === contributorId) late.delete(l.leaseId);
    return held.length;
  }

  /** A tab's own report of its speed; used for its leases until one of its units is measured. */
  reportSpeed(contributorId: string, samplesPerSec: number): void {
    this.speeds.report(contributorId, samplesPerSec);
  }

  /** The lease's unit goes back to the pool; the lease may still deliver late while it can be used. */
  private expire(lease: Lease): void {
    this.leases.delete(lease.leaseId);
    const pool = this.pools.get(lease.jobId);
    const round = this.rounds.get(lease.jobId);
    const unit = pool
      ? pool.units.get(lease.unitId)
      : round?.round === lease.round
        ? round.units.find((u) => u.id === lease.unitId)
        : undefined;
    if (pool && !pool.done.has(lease.unitId)) pool.late.set(lease.leaseId, lease);
    if (unit && round && !round.closing && unit.status !== 'done') round.late.set(lease.leaseId, lease);
    if (unit && unit.status === 'leased' && unit.lease?.leaseId === lease.leaseId) {
      unit.status = 'pending';
      unit.lease = null;
      this.deps.events.unitsAvailable();
    }
  }

  /** Forgets a pool lease for good (used, refused, or too old to be used). */
  private dropLease(pool: PoolState, lease: Lease): void {
    const unit = pool.units.get(lease.unitId);
    if (this.leases.has(lease.leaseId)) this.expire(lease);
    else if (unit && unit.lease?.leaseId === lease.leaseId) {
      unit.status = 'pending';
      unit.lease = null;
    }
    pool.late.delete(lease.leaseId);
  }

  /** Periodic housekeeping: expire leases, close rounds whose deadline passed. */
  async tick(): Promise<void> {
    const now = this.deps.clock.now();
    for (const lease of [...this.leases.values()]) {
      if (now > lease.deadline) {
        this.deps.log(`lease ${lease.leaseId} on ${lease.unitId} expired; unit goes back to the pool`);
        this.expire(lease);
      }
    }
    for (const lease of [...this.retired.values()])
      if (now > lease.deadline + RETIRED_MS) this.retired.delete(lease.leaseId);
    for (const round of [...this.rounds.values()]) {
      const job = await this.jobOf(round.jobId);
      if (job?.status !== 'running' || round.closing) continue;
      if (now - round.openedAt < job.spec.rounds.deadlineMs) continue;
      if (round.units.some((u) => u.status === 'done')) this.startClosing(job, round);
      else round.openedAt = now; // nothing arrived: give the round another deadline
    }
    if (this.ownership.shared) await this.takeOver();
  }

  /** Opens the rounds of running jobs no live process holds (their owner died or left). */
  private async takeOver(): Promise<void> {
    for (const job of await this.deps.store.listJobs()) {
      if (
        job.status === 'running' &&
        !this.rounds.has(job.id) &&
        !this.pools.has(job.id) &&
        !this.opening.has(job.id)
      )
        await this.openRound(job);
    }
  }

  /** A commit refused because another process moved the job on: leave the job to it. */
  private lostTo(job: JobRecord, e: unknown): boolean {
    if (!(e instanceof StaleRoundError)) return false;
    this.deps.log(`job ${job.id}: ${e.message}; leaving the job to its new owner`);
    this.drop(job.id);
    return true;
  }

  private quorumReached(job: JobRecord, round: RoundState): boolean {
    const needed = Math.ceil(job.spec.rounds.quorum * round.units.length);
    return round.units.filter((u) => u.status === 'done').length >= needed;
  }

  private startClosing(job: JobRecord, round: RoundState): void {
    if (round.closing) return;
    round.closing = true;
    // Results for this round come too late now: their holders hear STALE_VERSION for a while.
    for (const lease of [...round.units.flatMap((u) => (u.lease ? [u.lease] : [])), ...round.late.values()]) {
      this.leases.delete(lease.leaseId);
      this.retired.set(lease.leaseId, lease);
    }
    round.late.clear();
    this.track(
      this.closeRound(job, round).catch((e) => {
        if (this.rounds.get(job.id) === round && this.lostTo(job, e)) return;
        this.deps.log(`job ${job.id}: closing round ${round.round} failed: ${(e as Error).stack}`);
        round.closing = false;
      }),
    );
  }

  private track(p: Promise<void>): void {
    const tracked = p.finally(() => this.closings.delete(tracked));
    this.closings.add(tracked);
  }

  /** Makes a version, charging the job the coordinator CPU time aggregation took. */
  private commit(job: JobRecord, base: VersionRecord, updates: UpdateRecord[], round: number) {
    const make = () => commitVersion(this.deps, job, base, updates, round);
    return this.deps.meter ? this.deps.meter.timeCpu(job.id, make, job.spec.budget !== undefined) : make();
  }

  private async closeRound(job: JobRecord, round: RoundState): Promise<void> {
    const { store, events } = this.deps;
    const started = performance.now();
    await this.insertsDone(job.id, round.round);
    const updates = await store.listUpdates(job.id, round.round);
    const base = (await store.getVersion(round.baseVersionId))!;
    // Forgotten even when the commit fails: it may have been written before the error.
    const { version } = await this.commit(job, base, updates, round.round).finally(() =>
      this.forgetJob(job.id),
    );
    this.rounds.delete(job.id);
    const { unitsPerRound } = job.spec.rounds;
    const delivered = this.deliveredIn(job.id, round.round, unitsPerRound, new Set(version.unitIds));
    this.queues.set(job.id, {
      round: round.round + 1,
      queue: afterRound(round.queue, unitsPerRound, delivered),
    });
    events.roundClosed((performance.now() - started) / 1000);
    const { metrics } = version;
    events.versionCommitted({ jobId: job.id, versionId: version.id, round: round.round, metrics });
    this.deps.log(
      `job ${job.id}: version ${version.id} (round ${round.round}, ${updates.length} updates) accuracy ${metrics.testAccuracy?.toFixed(4)}`,
    );
    const updated = (await this.readJob(job.id))!;
    if (updated.status === 'running') await this.openRound(updated);
    else if (updated.status === 'completed') {
      this.queues.delete(job.id);
      await this.ownership.release(job.id);
    }
  }

  /** Rebuilds a buffered job's pool: units done, lost ones back in the pool, the buffer's count. */
  private async openPool(job: JobRecord): Promise<void> {
    const { store, blobs } = this.deps;
    const version = job.versionId ? await store.getVersion(job.versionId) : null;
    if (!version) throw new Error(`job ${job.id} has no base version`);
    const baseBytes = await blobs.get(version.hash);
    if (!baseBytes) throw new Error(`weights ${version.hash} of version ${version.id} are missing`);
    const buffer = await store.listUpdates(job.id, job.round);
    // A crash while a version was being made leaves updates for the one after it.
    const overflow = await store.listUpdates(job.id, job.round + 1);
    const pool: PoolState = {
      jobId: job.id,
      version: { id: version.id, round: version.round, hash: version.hash },
      round: job.round,
      paramCount: baseBytes.byteLength / 4,
      units: new Map(),
      done: new Set(),
      next: 0,
      buffered: buffer.length,
      overflow: 0,
      closing: false,
      late: new Map(),
    };
    const committed = (await store.listVersions(job.id)).flatMap((v) => v.unitIds);
    const stored = [...buffer, ...overflow].map((u) => u.unitId);
    const shardsFor = await this.shardsFor(job);
    restoreUnits(pool, [...committed, ...stored], shardsFor);
    this.poolShards.set(job.id, shardsFor);
    // Updates stored under the next round are kept: they count once this buffer's version is in.
    pool.overflow = overflow.length;
    this.pools.set(job.id, pool);
    this.deps.log(
      `job ${job.id}: buffered on ${version.id} (${pool.buffered} in the buffer, ${pool.units.size} units to redo)`,
    );
    this.maybeClosePool(job, pool);
    this.deps.events.unitsAvailable();
  }

  private maybeClosePool(job: JobRecord, pool: PoolState): void {
    const { bufferSize } = strategyOf(job.spec) as { bufferSize: number };
    if (pool.closing || pool.buffered < bufferSize) return;
    pool.closing = true;
    this.track(
      this.closePool(job, pool).catch((e) => {
        if (this.pools.get(job.id) === pool && this.lostTo(job, e)) return;
        this.deps.log(`job ${job.id}: version ${pool.round} failed: ${(e as Error).stack}`);
        pool.closing = false;
      }),
    );
  }

  private async closePool(job: JobRecord, pool: PoolState): Promise<void> {
    const { store, events } = this.deps;
    const started = performance.now();
    await this.insertsDone(job.id, pool.round);
    const updates = await store.listUpdates(job.id, pool.round);
    const base = (await store.getVersion(pool.version.id))!;
    const { version, status } = await this.commit(job, base, updates, pool.round).finally(() =>
      this.forgetJob(job.id),
    );
    pool.version = { id: version.id, round: version.round, hash: version.hash };
    pool.round = version.round + 1;
    pool.buffered = pool.overflow;
    pool.overflow = 0;
    pool.closing = false;
    events.roundClosed((performance.now() - started) / 1000);
    const { metrics } = version;
    events.versionCommitted({ jobId: job.id, versionId: version.id, round: version.round, metrics });
    this.deps.log(
      `job ${job.id}: version ${version.id} (${updates.length} buffered updates) accuracy ${metrics.testAccuracy?.toFixed(4)}`,
    );
    if (status !== 'running') {
      this.dropPool(job.id);
      if (status === 'completed') await this.ownership.release(job.id);
      return;
    }
    // Units whose base is now too old to be used go to someone else at once; their holders
    // still hear STALE_VERSION for a couple of versions, then only LEASE_UNKNOWN.
    const { maxStaleness } = strategyOf(job.spec) as { maxStaleness: number };
    const age = (l: { baseRound: number }) => pool.version.round - l.baseRound;
    for (const lease of [...this.leases.values()]) {
      if (lease.jobId === job.id && age(lease) > maxStaleness) this.expire(lease);
    }
    for (const lease of [...pool.late.values()])
      if (age(lease) > maxStaleness + 2) pool.late.delete(lease.leaseId);
    this.deps.events.unitsAvailable();
    this.maybeClosePool((await this.readJob(job.id)) ?? job, pool);
  }

  /**
   * A finished or cancelled buffered job keeps no pool. Its leases stay until their deadline so
   * tabs still training on it hear JOB_NOT_RUNNING, not LEASE_UNKNOWN.
   */
  private dropPool(jobId: string): void {
    this.pools.delete(jobId);
    this.poolShards.delete(jobId);
  }

  async setStatus(jobId: string, status: 'running' | 'paused' | 'cancelled'): Promise<JobRecord> {
    const job = await this.deps.store.getJob(jobId);
    if (!job) throw new GridTabError('NOT_FOUND', `job ${jobId} does not exist`);
    if (job.status === 'completed' || job.status === 'cancelled') {
      throw new GridTabError('JOB_NOT_RUNNING', `job ${jobId} is ${job.status}`);
    }
    await this.deps.store.setJobStatus(jobId, status).finally(() => this.forgetJob(jobId));
    if (status === 'cancelled') {
      this.rounds.delete(jobId);
      this.queues.delete(jobId);
      this.dropPool(jobId);
      await this.ownership.release(jobId);
    }
    if (status === 'running') {
      const round = this.rounds.get(jobId);
      if (round) round.openedAt = this.deps.clock.now();
      else if (!this.pools.has(jobId)) await this.openRound((await this.readJob(jobId))!);
      this.deps.events.unitsAvailable();
    }
    return (await this.readJob(jobId))!;
  }

  /** Waits for rounds being closed (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.closings.size > 0) await Promise.all([...this.closings]);
  }

  /** Shutdown: waits for closing rounds, then gives this process's jobs up for others to take. */
  async close(): Promise<void> {
    await this.idle();
    await this.ownership.close();
  }

  roundOf(jobId: string): RoundState | undefined {
    return this.rounds.get(jobId);
  }

  poolOf(jobId: string): PoolState | undefined {
    return this.pools.get(jobId);
  }
}
