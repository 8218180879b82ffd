/**
 * Leases in the store (see lease-records.ts for the statements), run the same way on SQLite and
 * PostgreSQL through either store's executor.
 */
import { LEASE_SQL, type LeaseRecord, type LeaseStore, leaseValues } from '../lease-records.ts';
import type { Row } from '../rows.ts';
import type { Sql } from './statement.ts';

// PostgreSQL answers BIGINT as a string: both engines' answers go through Number.
const toLease = (r: Row): LeaseRecord => ({
  leaseId: r.id as string,
  jobId: r.job_id as string,
  round: Number(r.round),
  unitId: r.unit_id as string,
  contributorId: r.contributor_id as string,
  deadline: Number(r.deadline),
  issuedAt: Number(r.issued_at),
  baseVersionId: r.base_version_id as string,
  baseRound: Number(r.base_round),
  unit: r.unit ? JSON.parse(r.unit as string) : null,
});

export class LeaseQueries implements LeaseStore {
  constructor(private readonly sql: Sql) {}

  async put(lease: LeaseRecord): Promise<void> {
    await this.sql.run(LEASE_SQL.insert, leaseValues(lease));
  }

  async putMany(leases: LeaseRecord[]): Promise<void> {
    if (leases.length === 0) return;
    await this.sql.run(LEASE_SQL.insertMany(leases.length), leases.flatMap(leaseValues));
  }

  async get(leaseId: string): Promise<LeaseRecord | null> {
    const row = await this.sql.one(LEASE_SQL.get, [leaseId]);
    return row ? toLease(row) : null;
  }

  async ofJob(jobId: string): Promise<LeaseRecord[]> {
    return (await this.sql.all(LEASE_SQL.ofJob, [jobId])).map(toLease);
  }

  async delete(leaseId: string): Promise<void> {
    await this.sql.run(LEASE_SQL.delete, [leaseId]);
  }

  async prune(jobId: string, round: number): Promise<number> {
    return await this.sql.run(LEASE_SQL.prune, [jobId, round]);
  }

  async sweep(before: number): Promise<number> {
    return await this.sql.run(LEASE_SQL.sweep, [before]);
  }

  async deleteJob(jobId: string): Promise<void> {
    await this.sql.run(LEASE_SQL.deleteJob, [jobId]);
  }
}
