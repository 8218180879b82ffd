/**
 * What the Store keeps of leases (migration 12): one row per lease that may still deliver, so
 * that a job's new owner (another process, or this one restarted) honours the units its old
 * owner handed out. Whether a lease is live or late is read from its deadline, so expiring one
 * writes nothing; a row goes when its lease is used, refused or given up, and with its round.
 * One SQL text serves SQLite and PostgreSQL (`?` placeholders, numbered for PostgreSQL).
 */
import type { WorkUnit } from '@gridtab/shared';

/** The unit as handed out, less the model (the job's spec has it: no copy per lease). */
export type StoredUnit = Omit<WorkUnit, 'model'>;

export interface LeaseRecord {
  leaseId: string;
  jobId: string;
  round: number;
  unitId: string;
  contributorId: string;
  /** Epoch milliseconds. */
  deadline: number;
  issuedAt: number;
  baseVersionId: string;
  baseRound: number;
  unit: StoredUnit | null;
}

export interface LeaseStore {
  put(lease: LeaseRecord): Promise<void>;
  get(leaseId: string): Promise<LeaseRecord | null>;
  /** The job's leases, oldest first. */
  ofJob(jobId: string): Promise<LeaseRecord[]>;
  delete(leaseId: string): Promise<void>;
  /** Forgets the job's leases of rounds before `round` (their results can no longer count). */
  prune(jobId: string, round: number): Promise<number>;
  /** Forgets every lease whose deadline is before `before` (epoch ms), whatever its job. */
  sweep(before: number): Promise<number>;
  deleteJob(jobId: string): Promise<void>;
}

export const LEASE_SQL = {
  insert: `INSERT INTO leases (id, job_id, round, unit_id, contributor_id, deadline, issued_at,
    base_version_id, base_round, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  get: 'SELECT * FROM leases WHERE id = ?',
  ofJob: 'SELECT * FROM leases WHERE job_id = ? ORDER BY issued_at, id',
  delete: 'DELETE FROM leases WHERE id = ?',
  prune: 'DELETE FROM leases WHERE job_id = ? AND round < ?',
  sweep: 'DELETE FROM leases WHERE deadline < ?',
  deleteJob: 'DELETE FROM leases WHERE job_id = ?',
};

export const leaseValues = (l: LeaseRecord): unknown[] => [
  l.leaseId,
  l.jobId,
  l.round,
  l.unitId,
  l.contributorId,
  l.deadline,
  l.issuedAt,
  l.baseVersionId,
  l.baseRound,
  l.unit ? JSON.stringify(l.unit) : null,
];
