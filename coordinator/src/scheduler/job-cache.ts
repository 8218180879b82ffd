/**
 * The jobs this process runs, as last read from the store after the last write to them it knows
 * of, so that a unit request or a submit need not read the store each time. Alone
 * (LocalOwnership) every change of a job goes through the scheduler (setStatus, commits), so the
 * copy cannot go stale. With several processes a pause, resume or cancel may be asked of
 * another process: that one publishes the change (Scheduler.setStatus, cluster/job-control.ts)
 * and every process forgets its copy before the owner acknowledges; the owner's commits are
 * its own writes. A copy is still read again after `maxAgeMs`, so a change whose message was lost
 * (Redis unreachable for a moment) is seen within that time.
 */
import type { JobRecord, Store } from '../storage/store.ts';

export class JobCache {
  private readonly jobs = new Map<string, { job: JobRecord; readAt: number }>();
  /** Bumped by each write to a job here: a read begun before it does not refresh `jobs`. */
  private readonly writes = new Map<string, number>();
  /**
   * The read of each job now in flight: gets that miss while one is under way share it, so 100
   * unit requests at once are one query, not 100 queued for the pool's connections (bench:load,
   * two processes: getJob waited 2 s on average before).
   */
  private readonly inFlight = new Map<string, Promise<JobRecord | null>>();

  constructor(
    private readonly store: Pick<Store, 'getJob'>,
    /** How long a copy is used (Infinity: until this process writes the job). */
    private readonly maxAgeMs: number = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
  ) {}

  /** The job as this process knows it; the store when it does not. */
  async get(jobId: string): Promise<JobRecord | null> {
    const kept = this.jobs.get(jobId);
    if (kept && this.now() - kept.readAt < this.maxAgeMs) return kept.job;
    const pending = this.inFlight.get(jobId);
    if (pending) return pending;
    const p = this.read(jobId).finally(() => {
      if (this.inFlight.get(jobId) === p) this.inFlight.delete(jobId);
    });
    this.inFlight.set(jobId, p);
    return p;
  }

  /** Reads the job from the store and keeps it, unless this process wrote the job meanwhile. */
  async read(jobId: string): Promise<JobRecord | null> {
    const writes = this.writes.get(jobId) ?? 0;
    const readAt = this.now();
    const job = await this.store.getJob(jobId);
    if (job && (this.writes.get(jobId) ?? 0) === writes) this.jobs.set(jobId, { job, readAt });
    return job;
  }

  /** After a write to the job (here or, published, elsewhere): the copy is gone, and reads begun before it are not kept. */
  forget(jobId: string): void {
    this.writes.set(jobId, (this.writes.get(jobId) ?? 0) + 1);
    this.jobs.delete(jobId);
    this.inFlight.delete(jobId); // begun before this process's own write: later gets read anew
  }
}
