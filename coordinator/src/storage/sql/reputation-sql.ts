/**
 * Spot-checks and reputation (reputation-records.ts): the statements and the ReputationStore
 * both engines run over their executor, the one transaction (recordCheck) as a batch.
 */
import type { ReputationRecord, ReputationStore, SpotCheckRecord } from '../reputation-records.ts';
import { toCheck, toReputation } from '../rows.ts';
import type { Db } from './statement.ts';

export const REPUTATION_SQL = {
  insertCheck: `INSERT INTO spot_checks (update_id, job_id, round, unit_id, contributor_id, backend, passed, distance, replica_hash, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  /** Adds one check's pass or failure to its contributor's counts; the new counts. */
  countCheck: `INSERT INTO reputation (contributor_id, checks_passed, checks_failed, quarantined, updated_at)
    VALUES (?, ?, ?, 0, ?)
    ON CONFLICT (contributor_id) DO UPDATE SET
      checks_passed = reputation.checks_passed + excluded.checks_passed,
      checks_failed = reputation.checks_failed + excluded.checks_failed,
      updated_at = excluded.updated_at
    RETURNING *`,
  listChecks: 'SELECT * FROM spot_checks WHERE job_id = ? AND round = ? ORDER BY created_at, update_id',
  getReputation: 'SELECT * FROM reputation WHERE contributor_id = ?',
  listReputations: 'SELECT * FROM reputation ORDER BY contributor_id',
  setQuarantined: `INSERT INTO reputation (contributor_id, checks_passed, checks_failed, quarantined, updated_at)
    VALUES (?, 0, 0, ?, ?)
    ON CONFLICT (contributor_id) DO UPDATE SET quarantined = excluded.quarantined, updated_at = excluded.updated_at`,
  // One statement, so a check recorded meanwhile lands either before the reset or after it.
  releaseQuarantine: `UPDATE reputation SET checks_passed = 0, checks_failed = 0, quarantined = 0, updated_at = ?
    WHERE contributor_id = ? AND quarantined = 1 RETURNING *`,
} as const;

/** A check's values in `insertCheck`'s column order. */
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

export class ReputationQueries implements ReputationStore {
  constructor(private readonly sql: Db) {}

  async recordCheck(c: SpotCheckRecord): Promise<ReputationRecord> {
    const [, counted] = await this.sql.batch([
      [REPUTATION_SQL.insertCheck, spotCheckValues(c)],
      [REPUTATION_SQL.countCheck, [c.contributorId, c.passed ? 1 : 0, c.passed ? 0 : 1, c.createdAt]],
    ]);
    return toReputation(counted![0]!);
  }

  async listChecks(jobId: string, round: number): Promise<SpotCheckRecord[]> {
    return (await this.sql.all(REPUTATION_SQL.listChecks, [jobId, round])).map(toCheck);
  }

  async getReputation(contributorId: string): Promise<ReputationRecord | null> {
    const row = await this.sql.one(REPUTATION_SQL.getReputation, [contributorId]);
    return row ? toReputation(row) : null;
  }

  async listReputations(): Promise<ReputationRecord[]> {
    return (await this.sql.all(REPUTATION_SQL.listReputations)).map(toReputation);
  }

  async setQuarantined(contributorId: string, quarantined: boolean, now: string): Promise<void> {
    await this.sql.run(REPUTATION_SQL.setQuarantined, [contributorId, quarantined ? 1 : 0, now]);
  }

  async releaseQuarantine(contributorId: string, now: string): Promise<ReputationRecord | null> {
    const row = await this.sql.one(REPUTATION_SQL.releaseQuarantine, [now, contributorId]);
    return row ? toReputation(row) : null;
  }
}
