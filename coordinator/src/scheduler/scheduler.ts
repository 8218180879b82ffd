/**
 * The training scheduler: opens synchronous FedAvg rounds, hands out units under leases,
 * accepts validated updates durably, and closes a round into a new version when a quorum of
 * its units is in or its deadline passes. One instance per coordinator; all state that must
 * survive a crash goes through the Store before it is acknowledged.
 */
import { randomUUID } from 'node:crypto';
import {
  GridTabError,
  type UnitOffer,
  type UpdateAck,
  type UpdateMeta,
  type VersionEvent,
  type WorkUnit,
} from '@gridtab/shared';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import { decodeUpdate } from '../aggregation/decode-update.ts';
import { aggregationContext } from '../aggregation/history.ts';
import { aggregatorFor } from '../aggregation/rules.ts';
import { validateUpdate } from '../aggregation/validate.ts';
import type { Clock } from '../clock.ts';
import { type JobOwnership, LocalOwnership } from '../cluster/ownership.ts';
import type { Evaluator } from '../evaluation/evaluator.ts';
import type { SpotChecks } from '../reputation/spot-check.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { type JobRecord, StaleRoundError, type Store, type UpdateRecord } from '../storage/store.ts';
import { type Lease, type RoundState, unitId } from './round.ts';
import { planShards } from './shard-plan.ts';

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
  holdAfter?: (jobId: string, round: number) => boolean;
  /** Which jobs this process runs; default: all of them (one coordinator). */
  ownership?: JobOwnership;
}

const RETRY_MS = 2000;

export class Scheduler {
  private readonly rounds = new Map<string, RoundState>();
  private readonly leases = new Map<string, Lease>();
  private readonly closings = new Set<Promise<void>>();
  /** Rounds being opened, so a takeover and a commit cannot open the same job twice. */
  private readonly opening = new Map<string, Promise<void>>();
  /** Update inserts in flight per round: a closing round waits for them before it reads. */
  private readonly inserts = new Map<RoundState, Set<Promise<boolean>>>();
  private readonly ownership: JobOwnership;

  constructor(private readonly deps: SchedulerDeps) {
    this.ownership = deps.ownership ?? new LocalOwnership();
    this.ownership.onLost((jobId) => this.drop(jobId));
  }

  /** Forgets a job's open round and leases (another process owns the job now). */
  private drop(jobId: string): void {
    this.rounds.delete(jobId);
    for (const l of [...this.leases.values()]) if (l.jobId === jobId) this.leases.delete(l.leaseId);
  }

  /** Rebuilds open rounds for running jobs from the store (after a start or a crash). */
  async init(): Promise<void> {
    for (const job of await this.deps.store.listJobs()) {
      if (job.status === 'running') await this.openRound(job);
    }
  }

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
    const { store, blobs, clock } = this.deps;
    const version = job.versionId ? await store.getVersion(job.versionId) : null;
    const dataset = await store.getDataset(job.spec.dataset);
    if (!version || !dataset) throw new Error(`job ${job.id} has no base version or dataset`);
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
    const round: RoundState = {
      jobId: job.id,
      round: job.round,
      baseVersionId: version.id,
      baseHash: version.hash,
      paramCount: baseBytes.byteLength / 4,
      openedAt: clock.now(),
      closing: false,
      units: Array.from({ length: unitsPerRound }, (_, i) => {
        const id = unitId(job.id, job.round, i);
        const shards = plan.shardsFor((job.round - 1) * unitsPerRound + i);
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

  async requestUnit(contributorId: string): Promise<UnitOffer> {
    // Robustness hook: a quarantined contributor gets no work.
    if (this.deps.spotChecks?.isQuarantined(contributorId)) throw new GridTabError('QUARANTINED');
    // Fairness across jobs: the one with the fewest units in flight goes first.
    const open = [...this.rounds.values()].filter((r) => !r.closing);
    const jobs = await Promise.all(open.map((r) => this.deps.store.getJob(r.jobId)));
    const now = this.deps.clock.now();
    const candidates = open
      .map((r, i) => ({ r, job: jobs[i] }))
      .filter((c): c is { r: RoundState; job: JobRecord } => c.job?.status === 'running')
      .sort((a, b) => this.inFlight(a.r) - this.inFlight(b.r));
    for (const { r, job } of candidates) {
      // A round may have started closing while the jobs were read.
      if (r.closing) continue;
      const unit = r.units.find((u) => u.status === 'pending');
      if (!unit) continue;
      const lease: Lease = {
        leaseId: `l-${randomUUID()}`,
        jobId: r.jobId,
        round: r.round,
        unitId: unit.id,
        contributorId,
        deadline: now + job.spec.rounds.leaseMs,
      };
      unit.status = 'leased';
      unit.lease = lease;
      this.leases.set(lease.leaseId, lease);
      const hp = job.spec.hyperparameters;
      const workUnit: WorkUnit = {
        unitId: unit.id,
        leaseId: lease.leaseId,
        jobId: job.id,
        round: r.round,
        baseVersionId: r.baseVersionId,
        baseWeightsHash: r.baseHash,
        model: job.spec.model,
        datasetId: job.spec.dataset,
        shardHashes: unit.shardHashes,
        batchSize: hp.batchSize,
        localSteps: hp.localSteps,
        learningRate: hp.learningRate,
        optimizer: hp.optimizer,
        seed: job.spec.seed * 1_000_003 + r.round * 1009 + unit.index,
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
      if (job.status !== 'running' || this.rounds.has(job.id)) continue;
      const url = await this.ownership.ownerUrl(job.id);
      if (url && url !== this.ownership.selfUrl) return { redirect: url };
    }
    return {};
  }

  private inFlight(r: RoundState): number {
    return r.units.filter((u) => u.status === 'leased').length;
  }

  /** Validates and durably stores an update; throws GridTabError with the refusal code. */
  async submit(contributorId: string, meta: UpdateMeta, payload: Uint8Array): Promise<UpdateAck> {
    const jobId = this.leases.get(meta.leaseId)?.jobId ?? null;
    try {
      return await this.accept(contributorId, meta, payload);
    } catch (e) {
      if (e instanceof GridTabError) this.deps.events.updateRejected(e.code, jobId);
      throw e;
    }
  }

  private async accept(contributorId: string, meta: UpdateMeta, payload: Uint8Array): Promise<UpdateAck> {
    const { store, blobs, clock } = this.deps;
    const lease = this.leases.get(meta.leaseId);
    if (!lease || lease.contributorId !== contributorId || lease.unitId !== meta.unitId) {
      throw new GridTabError('LEASE_UNKNOWN');
    }
    const job = await store.getJob(lease.jobId);
    const round = this.rounds.get(lease.jobId);
    if (job?.status !== 'running') throw new GridTabError('JOB_NOT_RUNNING');
    if (
      !round ||
      round.round !== lease.round ||
      round.closing ||
      meta.baseVersionId !== round.baseVersionId
    ) {
      this.leases.delete(lease.leaseId);
      throw new GridTabError('STALE_VERSION');
    }
    const unit = round.units.find((u) => u.id === lease.unitId);
    if (!unit || unit.lease?.leaseId !== lease.leaseId) throw new GridTabError('LEASE_UNKNOWN');
    if (clock.now() > lease.deadline) {
      this.expire(lease);
      throw new GridTabError('LEASE_EXPIRED');
    }
    // Robustness hook: quarantined while training; the unit goes back to the pool.
    if (this.deps.spotChecks?.isQuarantined(contributorId)) {
      this.expire(lease);
      throw new GridTabError('QUARANTINED');
    }
    // FedAvg weights updates by the samples a tab claims: a claim above what the unit asked for
    // would let one tab outweigh the rest of the round.
    const { batchSize, localSteps } = job.spec.hyperparameters;
    if (meta.numSamples > batchSize * localSteps) {
      throw new GridTabError(
        'BAD_REQUEST',
        `numSamples ${meta.numSamples} is more than the unit's ${localSteps} steps of ${batchSize}`,
      );
    }
    const values = await decodeUpdate(meta, payload, job.spec.codec ?? { name: 'fp32' }, round.paramCount);
    const decoded = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const invalid = validateUpdate(decoded, round.paramCount, job.spec.maxUpdateNorm);
    if (invalid) throw new GridTabError(invalid.code, invalid.message);

    // Stored decoded: aggregation and audits read float32 whatever the job's codec.
    const blobHash = await blobs.put(decoded);
    // The round may have moved on while the blob was written; re-check before committing.
    if (round.closing || this.rounds.get(job.id) !== round || unit.lease?.leaseId !== lease.leaseId) {
      throw new GridTabError('STALE_VERSION');
    }
    const record: UpdateRecord = {
      id: `u-${randomUUID()}`,
      jobId: job.id,
      round: round.round,
      unitId: unit.id,
      contributorId,
      baseVersionId: round.baseVersionId,
      numSamples: meta.numSamples,
      loss: meta.loss,
      blobHash,
      createdAt: new Date(clock.now()).toISOString(),
    };
    // Tracked so that a round starting to close now waits for this insert before it reads.
    const inserting = store.insertUpdate(record);
    this.trackInsert(round, inserting);
    if (!(await inserting))
      throw new GridTabError('LEASE_UNKNOWN', 'this unit already has an accepted update');
    await store.recordContribution(contributorId, meta.numSamples, record.createdAt);
    unit.status = 'done';
    unit.lease = null;
    this.leases.delete(lease.leaseId);
    this.deps.events.updateAccepted(meta.numSamples);
    // Robustness hook: maybe spot-check it (runs in the background; closing the round waits).
    if (lease.unit) {
      void this.deps.spotChecks?.afterAccept({
        spec: job.spec,
        record,
        unit: lease.unit,
        backend: meta.backend ?? null,
        delta: values,
      });
    }
    if (this.quorumReached(job, round)) this.startClosing(job, round);
    return { accepted: true, round: round.round };
  }

  private trackInsert(round: RoundState, p: Promise<boolean>): void {
    const set = this.inserts.get(round) ?? new Set<Promise<boolean>>();
    this.inserts.set(round, set);
    const done = () => {
      set.delete(p);
      if (set.size === 0 && this.inserts.get(round) === set) this.inserts.delete(round);
    };
    p.then(done, done);
    set.add(p);
  }

  release(contributorId: string, leaseId: string): boolean {
    const lease = this.leases.get(leaseId);
    if (!lease || lease.contributorId !== contributorId) return false;
    this.expire(lease);
    return true;
  }

  /** Frees every lease a contributor holds (it left, or was gone past the grace period). */
  releaseAll(contributorId: string): number {
    const held = [...this.leases.values()].filter((l) => l.contributorId === contributorId);
    for (const lease of held) this.expire(lease);
    return held.length;
  }

  private expire(lease: Lease): void {
    this.leases.delete(lease.leaseId);
    const round = this.rounds.get(lease.jobId);
    const unit = round?.round === lease.round ? round.units.find((u) => u.id === lease.unitId) : undefined;
    if (unit && unit.status === 'leased' && unit.lease?.leaseId === lease.leaseId) {
      unit.status = 'pending';
      unit.lease = null;
      this.deps.events.unitsAvailable();
    }
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
    for (const round of [...this.rounds.values()]) {
      const job = await this.deps.store.getJob(round.jobId);
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
      if (job.status === 'running' && !this.rounds.has(job.id) && !this.opening.has(job.id))
        await this.openRound(job);
    }
  }

  private quorumReached(job: JobRecord, round: RoundState): boolean {
    const needed = Math.ceil(job.spec.rounds.quorum * round.units.length);
    return round.units.filter((u) => u.status === 'done').length >= needed;
  }

  private startClosing(job: JobRecord, round: RoundState): void {
    if (round.closing) return;
    round.closing = true;
    for (const u of round.units) if (u.lease) this.leases.delete(u.lease.leaseId);
    const p = this.closeRound(job, round)
      .catch((e) => {
        if (e instanceof StaleRoundError) {
          // Another process took the job over and moved it on: its round is the live one.
          this.deps.log(`job ${job.id}: ${e.message}; leaving the job to its new owner`);
          if (this.rounds.get(job.id) === round) this.drop(job.id);
          return;
        }
        this.deps.log(`job ${job.id}: closing round ${round.round} failed: ${(e as Error).stack}`);
        round.closing = false;
      })
      .finally(() => this.closings.delete(p));
    this.closings.add(p);
  }

  private async closeRound(job: JobRecord, round: RoundState): Promise<void> {
    const { store, blobs, clock, evaluator, events } = this.deps;
    const started = performance.now();
    await Promise.all(this.inserts.get(round) ?? []).catch(() => {});
    const updates = await store.listUpdates(job.id, round.round);
    const base = await this.loadFloats(round.baseHash);
    // Robustness hook: after the round's spot-checks, failed updates are replaced by the
    // coordinator's replica and unchecked ones of quarantined contributors left out.
    const screened = this.deps.spotChecks
      ? await this.deps.spotChecks.screen(job.id, round.round, updates)
      : updates;
    const weighted = await Promise.all(
      screened.map(async (u) => ({ delta: await this.loadFloats(u.blobHash), numSamples: u.numSamples })),
    );
    // Jobs stored before aggregation rules existed have none: they averaged.
    const aggregator = aggregatorFor(job.spec.aggregation ?? { rule: 'mean' });
    // Robustness hook: rules with momentum read the previous step, derived from stored versions.
    const context = aggregator.usesHistory
      ? await aggregationContext(store, blobs, round.baseVersionId)
      : undefined;
    // Nothing left after screening (all from quarantined contributors): the base carries over.
    const next = weighted.length > 0 ? aggregator.aggregate(base, weighted, context) : base;
    const hash = await blobs.put(new Uint8Array(next.buffer));
    const dataset = (await store.getDataset(job.spec.dataset))!;
    const metrics = await evaluator.evaluate(job.spec.model, next, dataset);
    const { maxRounds, targetAccuracy } = job.spec.stopping;
    const reachedTarget = targetAccuracy !== undefined && (metrics.testAccuracy ?? 0) >= targetAccuracy;
    const current = (await store.getJob(job.id))!;
    const held = current.status === 'running' && this.deps.holdAfter?.(job.id, round.round);
    const status = round.round >= maxRounds || reachedTarget ? 'completed' : held ? 'paused' : current.status;
    const version = {
      id: `v-${randomUUID().slice(0, 12)}`,
      jobId: job.id,
      round: round.round,
      hash,
      parentId: round.baseVersionId,
      numSamples: updates.reduce((n, u) => n + u.numSamples, 0),
      unitIds: updates.map((u) => u.unitId),
      metrics,
      createdAt: new Date(clock.now()).toISOString(),
    };
    await store.commitVersion(version, round.round + 1, status);
    this.rounds.delete(job.id);
    events.roundClosed((performance.now() - started) / 1000);
    events.versionCommitted({ jobId: job.id, versionId: version.id, round: round.round, metrics });
    this.deps.log(
      `job ${job.id}: version ${version.id} (round ${round.round}, ${updates.length} updates) accuracy ${metrics.testAccuracy?.toFixed(4)}`,
    );
    const updated = (await store.getJob(job.id))!;
    if (updated.status === 'running') await this.openRound(updated);
    else if (updated.status === 'completed') await this.ownership.release(job.id);
  }

  private async loadFloats(hash: string): Promise<Float32Array> {
    const bytes = await this.deps.blobs.get(hash);
    if (!bytes) throw new Error(`blob ${hash} is missing`);
    return bytesToFloat32(bytes);
  }

  async setStatus(jobId: string, status: 'running' | 'paused' | 'cancelled'): Promise<JobRecord> {
    const job = await this.deps.store.getJob(jobId);
    if (!job) throw new GridTabError('NOT_FOUND', `job ${jobId} does not exist`);
    if (job.status === 'completed' || job.status === 'cancelled') {
      throw new GridTabError('JOB_NOT_RUNNING', `job ${jobId} is ${job.status}`);
    }
    await this.deps.store.setJobStatus(jobId, status);
    if (status === 'cancelled') {
      this.drop(jobId);
      await this.ownership.release(jobId);
    }
    if (status === 'running') {
      const round = this.rounds.get(jobId);
      if (round) round.openedAt = this.deps.clock.now();
      else await this.openRound((await this.deps.store.getJob(jobId))!);
      this.deps.events.unitsAvailable();
    }
    return (await this.deps.store.getJob(jobId))!;
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
}
