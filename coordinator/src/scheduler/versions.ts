/**
 * Making a version in the background, the same for every schedule: wait for the updates being
 * inserted for it, commit it (commit.ts; the job is charged the CPU time), report it. The work
 * is tracked so tests and shutdown can wait for it (idle).
 */
import type { VersionEvent } from '@gridtab/shared';
import type { JobRecord, Store, VersionRecord } from '../storage/store.ts';
import type { UsageMeter } from '../usage/meter.ts';
import { type CommitDeps, commitVersion } from './commit.ts';
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
    roundClosed(seconds: number): void;
  };
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
}

export class VersionMaker {
  private readonly running = new Set<Promise<void>>();

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
    const { version, status } = await (meter
      ? meter.timeCpu(job.id, commit, job.spec.budget !== undefined)
      : commit()
    ).finally(() => this.deps.forgetJob(job.id));
    return { version, status, updates: updates.length, started };
  }

  /** Tells the rest of the coordinator (metrics, tabs, registry, sweeps); `what` ends the log line. */
  announce(job: JobRecord, { version, started }: MadeVersion, what: string): void {
    const { events } = this.deps;
    events.roundClosed((performance.now() - started) / 1000);
    const { metrics } = version;
    events.versionCommitted({ jobId: job.id, versionId: version.id, round: version.round, metrics });
    this.deps.log(
      `job ${job.id}: version ${version.id} (${what}) accuracy ${metrics.testAccuracy?.toFixed(4)}`,
    );
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
