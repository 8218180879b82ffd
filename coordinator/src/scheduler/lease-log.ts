/**
 * Leases written to the store (storage/lease-records.ts), so that whoever runs a job next (another
 * process after a failover, or this one restarted) honours the units handed out before: a tab
 * that trained a unit at a dead owner has its update accepted by the new one. A lease is written
 * before its unit goes out (so no tab holds a unit no store row knows) and deleted, in the
 * background, once used, refused or given up; a deleted-too-late row only costs a lookup, since
 * the unit's accepted update is what decides. Rows of old rounds go with the round.
 */

import type { LeaseRecord, LeaseStore } from '../storage/lease-records.ts';
import type { JobRecord } from '../storage/store.ts';
import type { Lease } from './round.ts';

/** How often a process sweeps rows long past their deadline. */
const SWEEP_EVERY_MS = 60_000;

/** What a runner made of a stored lease when it took the job over. */
export type Adopted = 'live' | 'late' | 'retired' | 'gone';

/** Most leases one insert writes (10 parameters each, well under either engine's limit). */
const MAX_BATCH = 500;

export class LeaseLog {
  private lastSweep = 0;
  private readonly waiting: { lease: Lease; done: () => void }[] = [];
  private writing = false;

  constructor(
    private readonly store: LeaseStore,
    private readonly log: (msg: string) => void,
  ) {}

  /**
   * Written before the unit is handed out; a failure is logged and the unit still goes out.
   * Leases asked for while a write is in flight wait for it and then go together, in one
   * statement: under load a process writes one row set per store round trip instead of a
   * statement (and a pool connection, and a wake-up of a PostgreSQL backend) per unit.
   */
  put(lease: Lease): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push({ lease, done: resolve });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      try {
        await this.store.putMany(batch.map((w) => toRecord(w.lease)));
      } catch (e) {
        for (const { lease } of batch)
          this.log(
            `lease ${lease.leaseId} not stored (${(e as Error).message}); a new owner would refuse it`,
          );
      }
      for (const w of batch) w.done();
    }
    this.writing = false;
  }

  delete(leaseId: string): void {
    this.quietly(this.store.delete(leaseId), `deleting lease ${leaseId}`);
  }

  /** The stored lease, with the unit's model back from its job. */
  async get(leaseId: string, jobOf: (jobId: string) => Promise<JobRecord | null>): Promise<Lease | null> {
    const record = await this.store.get(leaseId);
    if (!record) return null;
    const job = await jobOf(record.jobId);
    return job ? fromRecord(record, job) : null;
  }

  async ofJob(job: JobRecord): Promise<Lease[]> {
    return (await this.store.ofJob(job.id)).map((r) => fromRecord(r, job));
  }

  /** Leases of rounds before `round` can no longer count. */
  prune(jobId: string, round: number): void {
    this.quietly(this.store.prune(jobId, round), `pruning leases of ${jobId}`);
  }

  /** Forgets rows long past their deadline, at most once a minute per process. */
  sweep(now: number, keepMs: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    this.quietly(this.store.sweep(now - keepMs), 'sweeping leases');
  }

  private quietly(p: Promise<unknown>, what: string): void {
    p.catch((e) => this.log(`${what} failed: ${(e as Error).message}`));
  }
}

export function toRecord(lease: Lease): LeaseRecord {
  const { unit, ...rest } = lease;
  if (!unit) return { ...rest, unit: null };
  const { model: _model, ...stored } = unit;
  return { ...rest, unit: stored };
}

export function fromRecord(record: LeaseRecord, job: JobRecord): Lease {
  const { unit, ...rest } = record;
  return unit ? { ...rest, unit: { ...unit, model: job.spec.model } } : rest;
}
