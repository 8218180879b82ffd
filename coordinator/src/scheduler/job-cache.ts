/**
 * The jobs this process runs, as last read from the store after its own last write to them, so
 * that a unit request or a submit need not read the store each time. Alone (LocalOwnership)
 * every change of a job goes through the scheduler (setStatus, commits), so the copy cannot go
 * stale. With several processes it is not used: an admin's pause or cancel may land on another
 * process, which writes the store without telling the owner, so the hot path reads the store.
 */
import type { JobRecord, Store } from '../storage/store.ts';

export class JobCache {
  private readonly jobs = new Map<string, JobRecord>();
  /** Bumped by each write to a job here: a read begun before it does not refresh `jobs`. */
  private readonly writes = new Map<string, number>();
  /** Shared mode: the read of each job now in flight. */
  private readonly inFlight = new Map<string, Promise<JobRecord | null>>();

  constructor(
    private readonly store: Pick<Store, 'getJob'>,
    /** True when other processes may write the jobs (then nothing is kept). */
    private readonly shared: boolean,
  ) {}

  /** The job as this process knows it; the store when it does not. */
  async get(jobId: string): Promise<JobRecord | null> {
    if (this.shared) return this.readShared(jobId);
    return this.jobs.get(jobId) ?? this.read(jobId);
  }

  /**
   * With several processes every get reads the store, but gets that arrive while a read of the
   * same job is in flight share it: 100 unit requests at once are one query, not 100 queued
   * for the pool's 10 connections (bench:load, two processes: getJob waited 2 s on average).
   * A get answered this way sees the row as of a read begun at most one round trip before it.
   */
  private readShared(jobId: string): Promise<JobRecord | null> {
    const pending = this.inFlight.get(jobId);
    if (pending) return pending;
    const p = this.store.getJob(jobId).finally(() => {
      if (this.inFlight.get(jobId) === p) this.inFlight.delete(jobId);
    });
    this.inFlight.set(jobId, p);
    return p;
  }

  /** Reads the job from the store and keeps it, unless this process wrote the job meanwhile. */
  async read(jobId: string): Promise<JobRecord | null> {
    const writes = this.writes.get(jobId) ?? 0;
    const job = await this.store.getJob(jobId);
    if (job && !this.shared && (this.writes.get(jobId) ?? 0) === writes) this.jobs.set(jobId, job);
    return job;
  }

  /** After a write to the job here: the copy is gone, and reads begun before it are not kept. */
  forget(jobId: string): void {
    this.writes.set(jobId, (this.writes.get(jobId) ?? 0) + 1);
    this.jobs.delete(jobId);
    this.inFlight.delete(jobId); // begun before this process's own write: later gets read anew
  }
}
