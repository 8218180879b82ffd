/**
 * What the scheduler asks of a job's schedule while the job runs here: a RoundRunner
 * (rounds.ts) for strategies with synchronous rounds, a BufferRunner (buffer.ts) for those that
 * fill a buffer. A runner keeps the job's units and late leases and takes its updates in; its
 * strategy's schedule decides when a version is made. What every schedule shares (leases,
 * intake, making versions) comes through RunnerHost.
 */
import { randomUUID } from 'node:crypto';
import type { DataSpec, UpdateAck, UpdateMeta, WorkUnit } from '@gridtab/shared';
import type { Clock } from '../clock.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { JobRecord, Store } from '../storage/store.ts';
import type { Strategy } from '../strategies/index.ts';
import type { UpdateIntake } from './intake.ts';
import type { Adopted } from './lease-log.ts';
import type { LeaseBook } from './leases.ts';
import type { Lease, UnitState } from './round.ts';
import type { RoundPlans } from './round-plans.ts';
import { MAX_UNIT_SIZE, minTimedSteps, type SpeedBook } from './speed.ts';
import type { AggregationStreams, RoundStream } from './streaming.ts';
import type { VersionMaker } from './versions.ts';

/** What a runner hands out: the unit, its base, its round, and a prefetch hint. */
export interface RunnerOffer {
  unit: UnitState;
  base: UnitBase;
  round: number;
  /** Shards the holder's next unit will likely use (the same place in the next round). */
  prefetch?: string[];
}

/** The version a unit trains on. */
export interface UnitBase {
  id: string;
  hash: string;
  round: number;
}

export interface JobRunner {
  readonly jobId: string;
  readonly strategy: Strategy;
  /** The data spec the job's units carry. */
  readonly data: DataSpec;
  /** Leases past their deadline (or of a contributor gone) whose result may still be used. */
  readonly late: Map<string, Lease>;
  /** A version is being made. */
  readonly closing: boolean;
  /** Whether it hands out units now. */
  readonly handsOut: boolean;
  /** Called once it is the job's runner: makes a version at once if it may, else offers units. */
  start(job: JobRecord): void;
  /**
   * A unit to hand out now to `contributorId`, with its base, the round its update counts in and
   * the shards its holder will likely train on next (`prefetch`, a hint); none: undefined.
   */
  next(contributorId: string): RunnerOffer | undefined;
  accept(job: JobRecord, lease: Lease, meta: UpdateMeta, payload: Uint8Array): Promise<UpdateAck>;
  /** The lease is no longer live: keeps it as late if it may still count; true if its unit is free again. */
  free(lease: Lease): boolean;
  /**
   * Takes over a lease another runner of the job handed out (read from the store after a
   * failover or restart): the unit is held again, live or late as its deadline says.
   */
  adopt(lease: Lease, now: number): Adopted;
  /** The job was resumed. */
  resume(now: number): void;
  /** Makes the version its schedule decided on (started through RunnerHost.watch). */
  makeVersion(job: JobRecord): Promise<void>;
  /** Making the version failed: it may be tried again. */
  retry(): void;
  /** Periodic housekeeping (deadlines) of a running job. */
  tick?(job: JobRecord, now: number): void;
  /** The streaming accumulator of the round (or buffer) being filled; null: made in batch. */
  readonly stream: RoundStream | null;
  /** It is no longer the job's runner: frees its accumulators. */
  dispose(): Promise<void>;
}

/** What runners share, provided by the Scheduler. */
export interface RunnerHost {
  store: Store;
  blobs: Pick<BlobStore, 'get'>;
  clock: Clock;
  log: (msg: string) => void;
  unitsAvailable(): void;
  leases: LeaseBook;
  intake: UpdateIntake;
  versions: VersionMaker;
  /** Streaming aggregation (streaming.ts); null: every version is made in batch. */
  streams: AggregationStreams | null;
  plans: RoundPlans;
  /** Whether `runner` is still the job's runner (not closed, dropped or replaced). */
  isCurrent(runner: JobRunner): boolean;
  /** Has the runner make its version in the background; on a failure it may try again (retry). */
  watch(job: JobRecord, runner: JobRunner): void;
  /** The runner is no longer the job's (its round closed, or the job stopped). */
  detach(runner: JobRunner): void;
  /** Opens the job's next round. */
  open(job: JobRecord): Promise<void>;
  /** The job stopped with `status`; a completed one is given up (ownership) and forgotten. */
  ended(jobId: string, status: JobRecord['status']): Promise<void>;
  readJob(jobId: string): Promise<JobRecord | null>;
  /**
   * Before a round's version is made: the partial sums other processes made of the updates they
   * stored for it, added to `stream` (shared-rounds.ts); absent when this process is alone.
   */
  gather?(job: JobRecord, round: number, stream: RoundStream | null): Promise<void>;
}

/** Frees the unit if `lease` holds it; true when it did. */
export function freeUnit(unit: UnitState | undefined, lease: Lease): boolean {
  if (unit?.status !== 'leased' || unit.lease?.leaseId !== lease.leaseId) return false;
  unit.status = 'pending';
  unit.lease = null;
  return true;
}

/** Holds `unit` again under an adopted lease: a live one leases it, one past its deadline is late. */
export function holdUnit(unit: UnitState, lease: Lease, late: Map<string, Lease>, now: number): Adopted {
  if (now > lease.deadline) {
    late.set(lease.leaseId, lease);
    return 'late';
  }
  // Stored leases come oldest first: a unit handed out again after a deadline goes to the newer.
  if (unit.lease) late.set(unit.lease.leaseId, unit.lease);
  unit.status = 'leased';
  unit.lease = lease;
  return 'live';
}

/** Leases `unit` to a contributor: the lease and the WorkUnit the tab trains. */
export function issue(
  job: JobRecord,
  runner: JobRunner,
  offer: RunnerOffer,
  contributorId: string,
  now: number,
  speeds: Pick<SpeedBook, 'leaseMs' | 'unitSteps' | 'timedUnit'>,
): Lease {
  const { unit, base, round } = offer;
  const hp = job.spec.hyperparameters;
  const sizing = job.spec.rounds.unitSizing;
  const timed =
    sizing === 'time' ? speeds.timedUnit(job.id, contributorId, hp.localSteps, hp.batchSize, now) : null;
  const localSteps = timed
    ? hp.localSteps * MAX_UNIT_SIZE
    : sizing === 'speed'
      ? speeds.unitSteps(job.id, contributorId, hp.localSteps, now)
      : hp.localSteps;
  const samples = hp.batchSize * (timed?.expectedSteps ?? localSteps);
  const lease: Lease = {
    leaseId: `l-${randomUUID()}`,
    jobId: job.id,
    round,
    unitId: unit.id,
    contributorId,
    deadline: now + speeds.leaseMs(contributorId, samples, job.spec.rounds),
    issuedAt: now,
    baseVersionId: base.id,
    baseRound: base.round,
  };
  const training = runner.strategy.training?.(hp.optimizer);
  const workUnit: WorkUnit = {
    unitId: unit.id,
    leaseId: lease.leaseId,
    jobId: job.id,
    round,
    baseVersionId: base.id,
    baseWeightsHash: base.hash,
    model: job.spec.model,
    datasetId: job.spec.dataset,
    data: runner.data,
    shardHashes: unit.shardHashes,
    batchSize: hp.batchSize,
    localSteps,
    ...(timed ? { trainBudgetMs: timed.budgetMs, minSteps: minTimedSteps(hp.localSteps) } : {}),
    learningRate: hp.learningRate,
    optimizer: training?.optimizer ?? hp.optimizer,
    ...(training?.weightDecay !== undefined ? { weightDecay: training.weightDecay } : {}),
    seed: job.spec.seed * 1_000_003 + round * 1009 + unit.index,
    // Jobs stored before codecs existed have none: they were fp32.
    codec: job.spec.codec ?? { name: 'fp32' },
    deadline: lease.deadline,
    ...(offer.prefetch ? { prefetchShardHashes: offer.prefetch } : {}),
  };
  lease.unit = workUnit;
  return lease;
}
