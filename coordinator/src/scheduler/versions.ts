/**
 * Making a version in the background, the same for every schedule: wait for the updates being
 * inserted for it, commit it (commit.ts; the job is charged the CPU time), report it, and only
 * then evaluate it on the test set, while the next round already hands out units: the version is
 * announced twice, at its commit (metrics null, with its weights' hash so tabs can fetch them
 * before their next unit) and when its metrics land. A job's target accuracy or R² completes
 * it when the evaluation that meets it lands. The work is tracked so tests and shutdown can
 * wait for it (idle).
 */
import type { VersionEvent, VersionMetrics } from '@gridtab/shared';
import type { JobRecord, Store, VersionRecord } from '../storage/store.ts';
import type { UsageMeter } from '../usage/meter.ts';
import {
  type CommitDeps,
  commitVersion,
  evaluateVersion,
  loadFloats,
  reachedStoppingTarget,
} from './commit.ts';
import type { UpdateIntake } from './intake.ts';
import type { RoundStream } from './streaming.ts';

export interface VersionDeps {
  commit: CommitDeps;
  store: Pick<Store, 'listUpdates' | 'getVersion'>;
  intake: Pick<UpdateIntake, 'insertsDone'>;
  /** The job was written (commit): a cached copy is stale. */
  forgetJob(jobId: string): void;
  events: {
    versionCommitted(event: VersionEvent): void;
    /** The version's metrics are in the store now (after versionCommitted, off the round's path). */
    versionEvaluated?(event: VersionEvent): void;
    roundClosed(seconds: number): void;
  };
  /** An evaluation met the job's stopping target: the job completes (scheduler.ts). */
  reachedTarget(jobId: string): Promise<void>;
  log: (msg: string) => void;
  meter?: Pick<UsageMeter, 'timeCpu'>;
}

export interface MadeVersion {
  version: VersionRecord;
  /** The job's status after the commit (completed at its target, paused at a sweep's rung). */
  status: JobRecord['status'];
  updates: number;
  /** performance.now() when making it began. */
  started: number;
  /** The version's weights, for its evaluation. */
  weights: Float32Array;
  /** Evaluated in the commit (no next round opened after it: the job ended or waits). */
  evaluated: boolean;
}

export class VersionMaker {
  private readonly running = new Set<Promise<void>>();
  /** Versions committed whose evaluation has not landed yet. */
  /** Versions being evaluated here, each with its evaluation (a stopping target it meets included). */
  private readonly evaluations = new Map<string, Promise<void>>();

  constructor(private readonly deps: VersionDeps) {}

  /**
   * Commits version `round` of the job on `baseId` from the updates stored under `round`,
   * finishing `stream` (the round's streaming accumulator) when it folded exactly those.
   */
  async make(
    job: JobRecord,
    baseId: string,
    round: number,
    stream?: RoundStream | null,
  ): Promise<MadeVersion> {
    const { store, intake, meter } = this.deps;
    const started = performance.now();
    await intake.insertsDone(job.id, round);
    const updates = await store.listUpdates(job.id, round);
    const base = (await store.getVersion(baseId))!;
    const commit = () => commitVersion(this.deps.commit, job, base, updates, round, stream);
    // Forgotten even when the commit fails: it may have been written before the error.
    const { version, status, weights, evaluated } = await (meter
      ? meter.timeCpu(job.id, commit, job.spec.budget !== undefined)
      : commit()
    ).finally(() => this.deps.forgetJob(job.id));
    return { version, status, updates: updates.length, started, weights, evaluated };
  }

  /** Whether the version's evaluation is still running here (its metrics are null until then). */
  evaluating(versionId: string): boolean {
    return this.evaluations.has(versionId);
  }

  /**
   * Settles once the version's evaluation here has landed, and the job completed if it met the
   * job's stopping target (at once when none is running; a failed evaluation settles too).
   */
  evaluated(versionId: string): Promise<void> {
    return this.evaluations.get(versionId) ?? Promise.resolve();
  }

  /**
   * Tells the rest of the coordinator (metrics, tabs, registry, sweeps) and starts evaluating the
   * version in the background; `what` ends the log line. The evaluator yields to the event loop
   * between batches, so the next round opens and hands out units meanwhile.
   */
  announce(job: JobRecord, made: MadeVersion, what: string): void {
    const { events } = this.deps;
    const { version, started } = made;
    events.roundClosed((performance.now() - started) / 1000);
    const event = { jobId: job.id, versionId: version.id, round: version.round, hash: version.hash };
    events.versionCommitted({ ...event, metrics: version.metrics, evaluated: made.evaluated });
    if (made.evaluated) {
      events.versionEvaluated?.({ ...event, metrics: version.metrics, evaluated: true });
      this.deps.log(
        `job ${job.id}: version ${version.id} (${what}) accuracy ${version.metrics.testAccuracy?.toFixed(4)}`,
      );
      if (reachedStoppingTarget(job.spec.stopping, version.metrics))
        this.track(this.deps.reachedTarget(job.id).catch((e) => this.deps.log(`job ${job.id}: ${e}`)));
      return;
    }
    this.deps.log(`job ${job.id}: version ${version.id} (${what}) committed; evaluating`);
    this.startEvaluation(job, version, made.weights);
  }

  /**
   * After a restart: the job's newest version, committed but not yet evaluated when the process
   * stopped, is evaluated now (its metrics are null in the store).
   */
  async recover(job: JobRecord): Promise<void> {
    const version = job.versionId ? await this.deps.commit.store.getVersion(job.versionId) : null;
    if (!version || version.round === 0 || version.metrics.testLoss !== null) return;
    if (this.evaluations.has(version.id)) return;
    this.startEvaluation(job, version, await loadFloats(this.deps.commit.blobs, version.hash));
  }

  private startEvaluation(job: JobRecord, version: VersionRecord, weights: Float32Array): void {
    const { events } = this.deps;
    const event = { jobId: job.id, versionId: version.id, round: version.round, hash: version.hash };
    const evaluation = this.evaluate(job, version, weights)
      .then((metrics) => {
        events.versionEvaluated?.({ ...event, metrics, evaluated: true });
        this.deps.log(`job ${job.id}: version ${version.id} accuracy ${metrics.testAccuracy?.toFixed(4)}`);
        if (reachedStoppingTarget(job.spec.stopping, metrics)) return this.deps.reachedTarget(job.id);
      })
      .catch((e) => this.deps.log(`job ${job.id}: evaluating ${version.id} failed: ${(e as Error).message}`))
      .finally(() => this.evaluations.delete(version.id));
    this.evaluations.set(version.id, evaluation);
    this.track(evaluation);
  }

  /** The job is charged the evaluation's CPU time, as when it ran inside the commit. */
  private evaluate(job: JobRecord, version: VersionRecord, weights: Float32Array): Promise<VersionMetrics> {
    const { meter } = this.deps;
    const run = () => evaluateVersion(this.deps.commit, job, version, weights);
    return meter ? meter.timeCpu(job.id, run, job.spec.budget !== undefined) : run();
  }

  /** Runs `work` in the background, tracked until it settles. */
  track(work: Promise<void>): void {
    const tracked = work.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** Waits for versions being made (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
