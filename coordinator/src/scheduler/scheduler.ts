/**
 * The training scheduler: hands out units under leases, accepts validated updates durably, and
 * turns them into versions with the job's strategy. Each running job has a runner for its
 * strategy's schedule (runner.ts): synchronous rounds (rounds.ts) or a buffer (buffer.ts); the
 * strategy decides when a version is made and how the updates combine. Leases (leases.ts),
 * update intake (intake.ts) and making versions (versions.ts) are shared by both. Leases follow
 * each contributor's measured speed (speed.ts). One instance per coordinator; all state that
 * must survive a crash goes through the Store before it is acknowledged.
 */
import {
  GridTabError,
  type UnitOffer,
  type UpdateAck,
  type UpdateMeta,
  type VersionEvent,
  type WorkUnit,
} from '@gridtab/shared';
import type { Clock } from '../clock.ts';
import type { JobBus } from '../cluster/job-bus.ts';
import { type JobOwnership, LocalOwnership } from '../cluster/ownership.ts';
import type { Evaluator } from '../evaluation/evaluator.ts';
import type { SpotChecks } from '../reputation/spot-check.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { type JobRecord, StaleRoundError, type Store } from '../storage/store.ts';
import { jobStrategy } from '../strategies/index.ts';
import type { UsageMeter } from '../usage/meter.ts';
import { BufferRunner } from './buffer.ts';
import type { CommitDeps } from './commit.ts';
import { UpdateIntake } from './intake.ts';
import { JobCache } from './job-cache.ts';
import { type Adopted, LeaseLog } from './lease-log.ts';
import { LeaseBook } from './leases.ts';
import type { PoolState } from './pool.ts';
import type { Lease, RoundState } from './round.ts';
import { RoundPlans } from './round-plans.ts';
import { RoundRunner } from './rounds.ts';
import { issue, type JobRunner, type RunnerHost } from './runner.ts';
import { type Accepted, SharedRounds, shareable } from './shared-rounds.ts';
import { SpeedBook } from './speed.ts';
import type { AggregationStreams, RoundStream } from './streaming.ts';
import { VersionMaker } from './versions.ts';

export interface SchedulerEvents {
  /** A round opened or a unit was freed. */
  unitsAvailable(): void;
  versionCommitted(event: VersionEvent): void;
  /** A committed version's metrics landed (evaluation runs after the next round opened). */
  versionEvaluated?(event: VersionEvent): void;
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
  /** Streaming aggregation (streaming.ts, started); absent: every version is made in batch. */
  streams?: AggregationStreams;
  /**
   * Whether leases are also store rows, honoured by whoever runs the job next (lease-log.ts).
   * Default: when other processes may own jobs. Alone, the embedded store writes each one with
   * an fsync (synchronous = FULL) on the assignment path, for a gain only at a restart.
   */
  durableLeases?: boolean;
  /**
   * Requests between processes (cluster/job-bus.ts). With it, streaming and stored leases, any
   * process takes in the updates of a mean-rule job another one owns (shared-rounds.ts).
   */
  bus?: JobBus | null;
}

const RETRY_MS = 2000;
/**
 * With several processes: how long a job row read from the store is used before it is read
 * again. Changes made elsewhere are published (announceWith) and end the copy at once; this
 * bounds the staleness when such a message is lost.
 */
const SHARED_JOB_COPY_MS = 5000;
/** How often a submit for a dead owner's lease tries to take the job over. */
const CLAIM_RETRY_MS = 250;

export class Scheduler {
  /** The runner of each job this process runs now. */
  private readonly runners = new Map<string, JobRunner>();
  /** Runners being opened, so a takeover and a commit cannot open the same job twice. */
  private readonly opening = new Map<string, Promise<void>>();
  /** Jobs whose evaluation met their stopping target (reachedTarget). */
  private readonly atTarget = new Set<string>();
  private readonly leases: LeaseBook;
  private readonly jobs: JobCache;
  private readonly host: RunnerHost;
  private readonly ownership: JobOwnership;
  /** One job's updates taken in by every process (null: alone, or without streaming). */
  private readonly shared: SharedRounds | null;
  readonly speeds = new SpeedBook();

  constructor(private readonly deps: SchedulerDeps) {
    const { store, blobs, clock, log, events, meter, spotChecks } = deps;
    this.ownership = deps.ownership ?? new LocalOwnership();
    this.ownership.onLost((jobId) => this.drop(jobId));
    this.jobs = new JobCache(
      store,
      this.ownership.shared ? SHARED_JOB_COPY_MS : Number.POSITIVE_INFINITY,
      () => clock.now(),
    );
    const durable = (deps.durableLeases ?? this.ownership.shared) ? new LeaseLog(store.leases, log) : null;
    this.leases = new LeaseBook(this.runners, () => events.unitsAvailable(), durable);
    const intake = new UpdateIntake({ store, blobs, clock, speeds: this.speeds, meter, spotChecks });
    const versions = new VersionMaker({
      commit: deps,
      store,
      intake,
      forgetJob: (jobId) => this.jobs.forget(jobId),
      events,
      log,
      meter,
      reachedTarget: (jobId) => this.reachedTarget(jobId),
    });
    this.host = {
      store,
      blobs,
      clock,
      log,
      unitsAvailable: () => events.unitsAvailable(),
      leases: this.leases,
      intake,
      versions,
      streams: deps.streams ?? null,
      plans: new RoundPlans(store),
      isCurrent: (runner) => this.runners.get(runner.jobId) === runner,
      watch: (job, runner) => this.watch(job, runner),
      detach: (runner) => {
        if (this.runners.get(runner.jobId) === runner) this.runners.delete(runner.jobId);
        void runner.dispose();
      },
      // The job's next round, here: its leases are this process's already.
      open: (job) => this.openRound(job, false),
      ended: (jobId, status) => this.ended(jobId, status),
      readJob: (jobId) => this.jobs.read(jobId),
    };
    this.shared =
      deps.bus && deps.streams && durable
        ? new SharedRounds({
            bus: deps.bus,
            store,
            blobs,
            streams: deps.streams,
            intake,
            leaseLog: durable,
            ownership: this.ownership,
            spotChecks,
            log,
            readJob: (jobId) => this.jobs.read(jobId),
            runsHere: (jobId) => this.runners.has(jobId),
            offer: (jobId, contributorId) => this.offer(jobId, contributorId),
            acceptedElsewhere: (notice) => this.acceptedElsewhere(notice),
          })
        : null;
    const { shared } = this;
    if (shared)
      this.host.gather = async (job, round, stream) => {
        if (shareable(job.spec)) await shared.gather(job.id, round, stream);
      };
  }

  /**
   * With several processes: publishes a change of a job's row made here (pause, resume, cancel)
   * and resolves once the job's owner has applied it (cluster/job-control.ts). Null: alone.
   */
  private announce: ((jobId: string) => Promise<void>) | null = null;

  /** Wires the publishing of job changes (app.ts, once the Redis adapter is attached). */
  announceWith(announce: (jobId: string) => Promise<void>): void {
    this.announce = announce;
  }

  /**
   * Another process changed the job's row (an admin's pause, resume or cancel asked there): the
   * copy here is read again, and the owner acts on it as setStatus does. Returns whether this
   * process runs the job (its answer is the owner's acknowledgement).
   */
  async jobChanged(jobId: string): Promise<boolean> {
    this.jobs.forget(jobId);
    const job = await this.jobs.read(jobId);
    const runner = this.runners.get(jobId);
    if (!runner) return false;
    if (!job || job.status === 'cancelled' || job.status === 'completed') {
      await this.stopHere(jobId);
      this.deps.log(`job ${jobId}: ${job?.status ?? 'deleted'} on another process; stopped here`);
    } else if (job.status === 'running') {
      runner.resume(this.deps.clock.now());
      this.deps.events.unitsAvailable();
    }
    // Paused: the copy says so now, and requests and submits for the job are refused.
    return true;
  }

  /**
   * The job's row was written outside the scheduler (an admin's budget change): the copy here
   * goes, and, with several processes, every other copy before this resolves.
   */
  async jobWritten(jobId: string): Promise<void> {
    this.jobs.forget(jobId);
    if (this.ownership.shared) await this.announce?.(jobId);
  }

  /** The job ended (cancelled): its runner goes and another process may not take it over. */
  private async stopHere(jobId: string): Promise<void> {
    void this.runners.get(jobId)?.dispose();
    this.runners.delete(jobId);
    this.host.plans.delete(jobId);
    this.speeds.forgetJob(jobId);
    await this.ownership.release(jobId);
  }

  /** Forgets a job's runner and leases (another process owns the job now). */
  private drop(jobId: string): void {
    void this.runners.get(jobId)?.dispose();
    this.runners.delete(jobId);
    this.host.plans.delete(jobId);
    this.speeds.forgetJob(jobId);
    this.jobs.forget(jobId);
    this.leases.dropJob(jobId);
  }

  /** A completed job is given up here (its units are done); others wait to be resumed. */
  private async ended(jobId: string, status: JobRecord['status']): Promise<void> {
    if (status !== 'completed') return;
    this.host.plans.delete(jobId);
    this.speeds.forgetJob(jobId);
    await this.ownership.release(jobId);
  }

  /**
   * A version's evaluation met the job's stopping target: the job completes, and the round that
   * opened while it was evaluated is dropped (its units' results are refused as for a finished
   * job). Remembered, so a round that committed meanwhile does not open another.
   */
  private async reachedTarget(jobId: string): Promise<void> {
    this.atTarget.add(jobId);
    const job = await this.deps.store.getJob(jobId);
    if (!job || job.status === 'completed' || job.status === 'cancelled') return;
    await this.deps.store.setJobStatus(jobId, 'completed').finally(() => this.jobs.forget(jobId));
    this.deps.log(`job ${jobId}: reached its stopping target; completed`);
    this.runners.delete(jobId);
    this.leases.dropJob(jobId);
    await this.ended(jobId, 'completed');
  }

  /** Whether a committed version's evaluation is still running here (its metrics are null). */
  evaluating(versionId: string): boolean {
    return this.host.versions.evaluating(versionId);
  }

  /**
   * A job this process is creating (its row is not written yet): taken here, so the process that
   * creates a job runs it rather than whichever process's tick lists it first. Nobody else knows
   * the new id, so the claim only fails when Redis does (the job is then taken over as any other).
   */
  async claimNew(jobId: string): Promise<void> {
    await this.ownership.claim(jobId).catch((e) => {
      this.deps.log(`job ${jobId}: claiming it at creation failed (${(e as Error).message})`);
    });
  }

  /** The job claimed by claimNew was not written after all. */
  async unclaim(jobId: string): Promise<void> {
    await this.ownership.release(jobId).catch(() => {});
  }

  /** Rebuilds runners for running jobs from the store (after a start or a crash). */
  async init(): Promise<void> {
    for (const job of await this.deps.store.listJobs()) {
      if (job.status !== 'running') continue;
      await this.openRound(job);
      if (this.runners.has(job.id)) await this.host.versions.recover(job);
    }
  }

  /**
   * Starts handing out a running job's units: its current round, or its buffer. `adopt`: the job
   * is new to this process (a start, a takeover), so the leases in the store are taken over.
   */
  async openRound(job: JobRecord, adopt = true): Promise<void> {
    const pending = this.opening.get(job.id);
    if (pending) return pending;
    const p = this.openOwned(job, adopt).finally(() => this.opening.delete(job.id));
    this.opening.set(job.id, p);
    return p;
  }

  private async openOwned(job: JobRecord, adopt: boolean): Promise<void> {
    // Its target was met while a later round committed: that commit wrote the job running again.
    if (this.atTarget.has(job.id)) {
      await this.deps.store.setJobStatus(job.id, 'completed').finally(() => this.jobs.forget(job.id));
      return this.ended(job.id, 'completed');
    }
    // Only the job's owner runs its rounds; the others send contributors there.
    if (!(await this.ownership.claim(job.id))) return;
    // New here (a start, a takeover): what this process read of the job before may be stale.
    if (adopt) this.jobs.forget(job.id);
    const strategy = jobStrategy(job.spec);
    const { schedule } = strategy;
    const runner =
      schedule.kind === 'rounds'
        ? await RoundRunner.open(this.host, job, strategy, schedule)
        : await BufferRunner.open(this.host, job, strategy, schedule);
    const durable = this.leases.durable;
    if (durable && adopt) await this.adopt(job, runner, durable);
    // The open took time (store reads, leases adopted, the accumulator rebuilt). If the hold
    // lapsed meanwhile (an event loop stalled past the TTL) and another process took the job,
    // the loss was noticed with no runner to drop: this one must not serve the job beside the
    // new owner (it would hand out units of a round the owner has moved past, and accept
    // updates for it while the owner still holds the key).
    if (!(await this.ownership.claim(job.id))) {
      void runner.dispose();
      this.drop(job.id);
      this.deps.log(`job ${job.id}: ownership lost while opening it; left to its new owner`);
      return;
    }
    if (durable && schedule.kind === 'rounds') durable.prune(job.id, job.round - 2);
    this.runners.set(job.id, runner);
    runner.start(job);
  }

  /** Takes over the job's leases in the store: their units are held again, their results awaited. */
  private async adopt(job: JobRecord, runner: JobRunner, durable: LeaseLog): Promise<void> {
    const now = this.deps.clock.now();
    const counts: Record<Adopted, number> = { live: 0, late: 0, retired: 0, gone: 0 };
    for (const lease of await durable.ofJob(job)) {
      if (this.leases.find(lease.leaseId)) continue;
      const adopted = runner.adopt(lease, now);
      counts[adopted]++;
      if (adopted === 'live') this.leases.add(lease);
      else if (adopted === 'retired') this.leases.retire(lease);
      else if (adopted === 'gone') durable.delete(lease.leaseId);
    }
    if (counts.live + counts.late > 0)
      this.deps.log(`job ${job.id}: took over ${counts.live} live and ${counts.late} late leases`);
  }

  async requestUnit(contributorId: string): Promise<UnitOffer> {
    // Robustness hook: a quarantined contributor gets no work (a store read at most every few seconds).
    if (await this.deps.spotChecks?.isQuarantined(contributorId)) throw new GridTabError('QUARANTINED');
    const open = [...this.runners.values()].filter((r) => r.handsOut);
    const jobs = await Promise.all(open.map((r) => this.jobs.get(r.jobId)));
    const now = this.deps.clock.now();
    // Fairness across jobs: the one with the fewest units in flight goes first (rounds before
    // buffers among equals, as they always went).
    const rank = (r: JobRunner) =>
      this.leases.inFlight(r.jobId) * 2 + (r.strategy.schedule.kind === 'rounds' ? 0 : 1);
    const sources = open
      .map((runner, i) => ({ runner, job: jobs[i] }))
      .filter((c) => c.job?.status === 'running')
      .sort((a, b) => rank(a.runner) - rank(b.runner));
    for (const { runner, job } of sources) {
      const unit = await this.issueFrom(runner, job!, contributorId, now);
      if (unit) return { unit };
    }
    // A unit of a job another process owns, whose updates this process may take in.
    const elsewhere = await this.shared?.requestUnit(contributorId);
    if (elsewhere) return { unit: elsewhere };
    return { unit: null, retryMs: RETRY_MS, ...(await this.redirect()) };
  }

  /** The runner's next unit, under a lease issued to the contributor; null: none now. */
  private async issueFrom(
    runner: JobRunner,
    job: JobRecord,
    contributorId: string,
    now: number,
  ): Promise<WorkUnit | null> {
    // A round may have started closing, or a runner been dropped, while the jobs were read.
    if (!runner.handsOut || !this.host.isCurrent(runner)) return null;
    const offer = runner.next(contributorId);
    if (!offer) return null;
    const lease = issue(job, runner, offer, contributorId, now, this.speeds);
    offer.unit.status = 'leased';
    offer.unit.lease = lease;
    await this.leases.issue(lease);
    return lease.unit!;
  }

  /** A unit of a job run here, for a tab connected to another process (shared-rounds.ts). */
  private async offer(jobId: string, contributorId: string): Promise<WorkUnit | null> {
    const runner = this.runners.get(jobId);
    const job = runner && (await this.jobs.get(jobId));
    if (!runner || job?.status !== 'running') return null;
    return this.issueFrom(runner, job, contributorId, this.deps.clock.now());
  }

  /** Another process stored an update for a unit of a job run here (shared-rounds.ts). */
  private async acceptedElsewhere({ jobId, round, unitId, leaseId }: Accepted): Promise<void> {
    // A round being opened here may have read the round's updates before this one was stored.
    await this.opening.get(jobId)?.catch(() => {});
    const runner = this.runners.get(jobId);
    if (!(runner instanceof RoundRunner)) return;
    const job = await this.jobs.get(jobId);
    if (job?.status === 'running' && this.runners.get(jobId) === runner)
      runner.acceptedElsewhere(job, round, unitId, leaseId);
  }

  /** With several coordinators: the owner of a running job this process does not run. */
  private async redirect(): Promise<{ redirect?: string }> {
    if (!this.ownership.shared) return {};
    for (const job of await this.deps.store.listJobs()) {
      if (job.status !== 'running' || this.runners.has(job.id)) continue;
      const url = await this.ownership.ownerUrl(job.id);
      if (url && url !== this.ownership.selfUrl) return { redirect: url };
    }
    return {};
  }

  /** Validates and durably stores an update; throws GridTabError with the refusal code. */
  async submit(contributorId: string, meta: UpdateMeta, payload: Uint8Array): Promise<UpdateAck> {
    const jobId = this.leases.find(meta.leaseId)?.jobId ?? null;
    try {
      const ack = await this.accept(contributorId, meta, payload);
      this.deps.events.updateAccepted(meta.numSamples);
      return ack;
    } catch (e) {
      if (e instanceof GridTabError) this.deps.events.updateRejected(e.code, jobId);
      throw e;
    }
  }

  private async accept(contributorId: string, meta: UpdateMeta, payload: Uint8Array): Promise<UpdateAck> {
    const held = this.leases.find(meta.leaseId);
    // A lease of a job another live process runs: taken in here when the job allows it.
    const elsewhere = !held && this.shared ? await this.shared.accept(contributorId, meta, payload) : null;
    if (elsewhere) return elsewhere;
    const lease = held ?? (await this.storedLease(meta.leaseId));
    if (!lease || lease.contributorId !== contributorId || lease.unitId !== meta.unitId) {
      throw new GridTabError('LEASE_UNKNOWN');
    }
    const job = await this.jobs.get(lease.jobId);
    if (job?.status !== 'running') throw new GridTabError('JOB_NOT_RUNNING');
    // Robustness hook: quarantined while training; the unit goes back to the pool.
    if (await this.deps.spotChecks?.isQuarantined(contributorId)) {
      if (this.leases.has(lease.leaseId)) this.leases.expire(lease);
      this.leases.forget(lease);
      throw new GridTabError('QUARANTINED');
    }
    const runner = this.runners.get(job.id);
    if (!runner) {
      this.leases.forget(lease);
      throw new GridTabError('STALE_VERSION');
    }
    return runner.accept(job, lease, meta, payload);
  }

  /**
   * A lease this process does not hold, from the store: its job's owner died (or left) and the
   * tab came here with the unit it trained. This process takes the job over (waiting, at most an
   * ownership TTL, for the dead owner's hold to lapse) and so adopts the lease. A job run here
   * already, or held by a live owner, answers as before: the lease is not ours.
   */
  private async storedLease(leaseId: string): Promise<Lease | undefined> {
    const durable = this.leases.durable;
    if (!durable) return undefined;
    const stored = await durable.get(leaseId, (id) => this.jobs.read(id));
    if (!stored || this.runners.has(stored.jobId)) return this.leases.find(leaseId);
    // Tries counted, not clock time: a test's manual clock does not move while this waits.
    for (let tries = Math.ceil(this.ownership.ttlMs / CLAIM_RETRY_MS); ; tries--) {
      const job = await this.jobs.read(stored.jobId);
      // A job paused or ended meanwhile: the lease is its, and accept says JOB_NOT_RUNNING.
      if (job?.status !== 'running') return stored;
      await this.openRound(job);
      if (this.runners.has(job.id) || tries <= 0) break;
      await new Promise((r) => setTimeout(r, CLAIM_RETRY_MS));
    }
    return this.leases.find(leaseId);
  }

  release(contributorId: string, leaseId: string): boolean {
    return this.leases.release(contributorId, leaseId);
  }

  /** Frees every lease a contributor holds for good, late ones included (an admin kicked it). */
  releaseAll(contributorId: string): number {
    return this.leases.releaseAll(contributorId);
  }

  /**
   * A contributor gone past the disconnect grace period: its units go to others at once, but its
   * leases become late ones, so a tab that comes back (a reload resuming its unit from its cache,
   * a long network blip) still has its result used if nobody else delivered the unit first.
   */
  leave(contributorId: string): number {
    const held = this.leases.heldBy(contributorId);
    for (const lease of held) this.leases.expire(lease);
    return held.length;
  }

  /** A tab's own report of its speed; used for its leases until one of its units is measured. */
  reportSpeed(contributorId: string, samplesPerSec: number): void {
    this.speeds.report(contributorId, samplesPerSec);
  }

  /** Periodic housekeeping: expire leases, let runners keep their deadlines, take orphans over. */
  async tick(): Promise<void> {
    const now = this.deps.clock.now();
    for (const lease of this.leases.all()) {
      if (now > lease.deadline) {
        this.deps.log(`lease ${lease.leaseId} on ${lease.unitId} expired; unit goes back to the pool`);
        this.leases.expire(lease);
      }
    }
    this.leases.sweepRetired(now);
    for (const runner of [...this.runners.values()]) {
      if (!runner.tick) continue;
      const job = await this.jobs.get(runner.jobId);
      if (job?.status !== 'running' || runner.closing) continue;
      runner.tick(job, now);
    }
    if (this.ownership.shared) await this.takeOver();
  }

  /** Opens the runners of running jobs no live process holds (their owner died or left). */
  private async takeOver(): Promise<void> {
    for (const job of await this.deps.store.listJobs()) {
      if (job.status === 'running' && !this.runners.has(job.id) && !this.opening.has(job.id))
        await this.openRound(job);
    }
  }

  /** Makes a version in the background; a commit lost to another process leaves the job to it. */
  private watch(job: JobRecord, runner: JobRunner): void {
    this.host.versions.track(
      runner.makeVersion(job).catch((e) => {
        if (this.runners.get(job.id) === runner && e instanceof StaleRoundError) {
          this.deps.log(`job ${job.id}: ${e.message}; leaving the job to its new owner`);
          this.drop(job.id);
          return;
        }
        this.deps.log(`job ${job.id}: making a version failed: ${(e as Error).stack}`);
        runner.retry();
      }),
    );
  }

  async setStatus(jobId: string, status: 'running' | 'paused' | 'cancelled'): Promise<JobRecord> {
    const job = await this.deps.store.getJob(jobId);
    if (!job) throw new GridTabError('NOT_FOUND', `job ${jobId} does not exist`);
    if (job.status === 'completed' || job.status === 'cancelled') {
      throw new GridTabError('JOB_NOT_RUNNING', `job ${jobId} is ${job.status}`);
    }
    await this.deps.store.setJobStatus(jobId, status).finally(() => this.jobs.forget(jobId));
    if (status === 'cancelled') await this.stopHere(jobId);
    if (status === 'running') {
      const runner = this.runners.get(jobId);
      if (runner) runner.resume(this.deps.clock.now());
      else await this.openRound((await this.jobs.read(jobId))!);
      this.deps.events.unitsAvailable();
    }
    // Another process may run the job: it acts on the change before the caller is answered.
    if (this.ownership.shared) await this.announce?.(jobId);
    return (await this.jobs.read(jobId))!;
  }

  /** Waits for versions being made (tests and shutdown). */
  async idle(): Promise<void> {
    await this.host.versions.idle();
  }

  /** Shutdown: waits for versions being made, then gives this process's jobs up for others to take. */
  async close(): Promise<void> {
    await this.idle();
    await Promise.all([...this.runners.values()].map((r) => r.dispose()));
    await this.ownership.close();
  }

  /** The streaming accumulator of a job's round (or buffer) being filled; null: made in batch. */
  streamOf(jobId: string): RoundStream | null {
    return this.runners.get(jobId)?.stream ?? null;
  }

  roundOf(jobId: string): RoundState | undefined {
    const runner = this.runners.get(jobId);
    return runner instanceof RoundRunner ? runner.state : undefined;
  }

  poolOf(jobId: string): PoolState | undefined {
    const runner = this.runners.get(jobId);
    return runner instanceof BufferRunner ? runner.pool : undefined;
  }
}
