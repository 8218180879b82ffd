/** ReputationStore on the embedded SQLite database (tables of migration 4). */
import type Database from 'better-sqlite3';
import type { ReputationRecord, ReputationStore, SpotCheckRecord } from './reputation-records.ts';

export type Row = Record<string, unknown>;

/** A check's values in the column order of `INSERT INTO spot_checks (...)` (both stores). */
export const spotCheckValues = (c: SpotCheckRecord): unknown[] => [
  c.updateId,
  c.jobId,
  c.round,
  c.unitId,
  c.contributorId,
  c.backend,
  c.passed ? 1 : 0,
  // SQLite stores Infinity as NULL-less REAL; keep the column finite for PostgreSQL too.
  Number.isFinite(c.distance) ? c.distance : 1e308,
  c.replicaHash,
  c.createdAt,
];

export const toCheck = (r: Row): SpotCheckRecord => ({
  updateId: r.update_id as string,
  jobId: r.job_id as string,
  round: r.round as number,
  unitId: r.unit_id as string,
  contributorId: r.contributor_id as string,
  backend: (r.backend as string | null) ?? null,
  passed: r.passed === 1,
  distance: r.distance as number,
  replicaHash: r.replica_hash as string,
  createdAt: r.created_at as string,
});

export const toReputation = (r: Row): ReputationRecord => ({
  contributorId: r.contributor_id as string,
  checksPassed: r.checks_passed as number,
  checksFailed: r.checks_failed as number,
  quarantined: r.quarantined === 1,
  updatedAt: r.updated_at as string,
});

export class SqliteReputationStore implements ReputationStore {
  constructor(private readonly db: Database.Database) {}

  async recordCheck(c: SpotCheckRecord): Promise<ReputationRecord> {
    const tx = this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO spot_checks (update_id, job_id, round, unit_id, contributor_id, backend, passed, distance, replica_hash, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(...spotCheckValues(c));
      this.db
        .prepare(
          `INSERT INTO reputation (contributor_id, checks_passed, checks_failed, quarantined, updated_at)
           VALUES (?, ?, ?, 0, ?)
           ON CONFLICT (contributor_id) DO UPDATE SET
             checks_passed = reputation.checks_passed + excluded.checks_passed,
             checks_failed = reputation.checks_failed + excluded.checks_failed,
             updated_at = excluded.updated_at`,
        )
        .run(c.contributorId, c.passed ? 1 : 0, c.passed ? 0 : 1, c.createdAt);
      return this.db.prepare('SELECT * FROM reputation WHERE contributor_id = ?').get(c.contributorId) as Row;
    });
    return toReputation(tx());
  }

  async listChecks(jobId: string, round: number): Promise<SpotCheckRecord[]> {
    return (
      this.db
        .prepare('SELECT * FROM spot_checks WHERE job_id = ? AND round = ? ORDER BY created_at, update_id')
        .all(jobId, round) as Row[]
    ).map(toCheck);
  }

  async getReputation(contributorId: string): Promise<ReputationRecord | null> {
    const row = this.db.prepare('SELECT * FROM reputation WHERE contributor_id = ?').get(contributorId) as
      | Row
      | undefined;
    return row ? toReputation(row) : null;
  }

  async listReputations(): Promise<ReputationRecord[]> {
    return (this.db.prepare('SELECT * FROM reputation ORDER BY contributor_id').all() as Row[]).map(
      toReputation,
    );
  }

  async setQuarantined(contributorId: string, quarantined: boolean, now: string): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO reputation (contributor_id, checks_passed, checks_failed, quarantined, updated_at)
         VALUES (?, 0, 0, ?, ?)
         ON CONFLICT (contributor_id) DO UPDATE SET quarantined = excluded.quarantined, updated_at = excluded.updated_at`,
      )
      .run(contributorId, quarantined ? 1 : 0, now);
  }

  async releaseQuarantine(contributorId: string, now: string): Promise<ReputationRecord | null> {
    const row = this.db
      .prepare(
        `UPDATE reputation SET checks_passed = 0, checks_failed = 0, quarantined = 0, updated_at = ?
         WHERE contributor_id = ? AND quarantined = 1 RETURNING *`,
      )
      .get(now, contributorId) as Row | undefined;
    return row ? toReputation(row) : null;
  }
}
