/**
 * Job ownership: which coordinator process runs a job's rounds and aggregation. The scheduler
 * keeps rounds and leases in memory, so exactly one process may hold a job's open round at a
 * time; the others send contributors to it. Embedded mode owns everything (LocalOwnership);
 * with REDIS_URL a process owns a job while it holds the job's Redis key (RedisOwnership).
 */

export interface JobOwnership {
  /** True when other processes may own jobs (then the scheduler takes over orphaned ones). */
  readonly shared: boolean;
  /** Takes or confirms this process's ownership of the job; true when it owns it now. */
  claim(jobId: string): Promise<boolean>;
  /** The public URL of the job's current owner, or null when none is known. */
  ownerUrl(jobId: string): Promise<string | null>;
  /** How long a dead owner's hold on a job lasts at most (0: no other process owns jobs). */
  readonly ttlMs: number;
  /** This process's public URL, as contributors reach it (null when not advertised). */
  readonly selfUrl: string | null;
  /** Gives the job up (the job ended, or this process shuts down). */
  release(jobId: string): Promise<void>;
  /** Called when a renewal finds that another process holds the job now. */
  onLost(listener: (jobId: string) => void): void;
  /** Releases every job this process owns and stops renewing. */
  close(): Promise<void>;
}

/** One process: it owns every job. */
export class LocalOwnership implements JobOwnership {
  readonly shared = false;
  readonly selfUrl = null;
  readonly ttlMs = 0;
  async claim(): Promise<boolean> {
    return true;
  }
  async ownerUrl(): Promise<string | null> {
    return null;
  }
  async release(): Promise<void> {}
  onLost(): void {}
  async close(): Promise<void> {}
}
