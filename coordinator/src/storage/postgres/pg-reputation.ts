/** Spot-checks and reputation on PostgreSQL (see reputation-records.ts and sqlite-reputation.ts). */
import type pg from 'pg';
import type { ReputationRecord, ReputationStore, SpotCheckRecord } from '../reputation-records.ts';
import { type Row, spotCheckValues, toCheck, toReputation } from '../sqlite-reputation.ts';
import { transaction } from './pg-tx.ts';

export class PgReputationStore implements ReputationStore {
  constructor(private readonly pool: pg.Pool) {}

  async recordCheck(c: SpotCheckRecord): Promise<ReputationRecord> {
    return transaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO spot_checks (update_id, job_id, round, unit_id, contributor_id, backend, passed, distance, replica_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        spotCheckValues(c),
      );
      const row = await client.query(
        `INSERT INTO reputation (contributor_id, checks_passed, checks_failed, quarantined, updated_at)
         VALUES ($1, $2, $3, 0, $4)
         ON CONFLICT (contributor_id) DO UPDATE SET
           checks_passed = reputation.checks_passed + excluded.checks_passed,
           checks_failed = reputation.checks_failed + excluded.checks_failed,
           updated_at = excluded.updated_at
         RETURNING *`,
        [c.contributorId, c.passed ? 1 : 0, c.passed ? 0 : 1, c.createdAt],
      );
      return toReputation(row.rows[0] as Row);
    });
  }

  async listChecks(jobId: string, round: number): Promise<SpotCheckRecord[]> {
    const { rows } = await this.pool.query(
      'SELECT * FROM spot_checks WHERE job_id = $1 AND round = $2 ORDER BY created_at, update_id',
      [jobId, round],
    );
    return (rows as Row[]).map(toCheck);
  }

  async getReputation(contributorId: string): Promise<ReputationRecord | null> {
    const row = (await this.pool.query('SELECT * FROM reputation WHERE contributor_id = $1', [contributorId]))
      .rows[0] as Row | undefined;
    return row ? toReputation(row) : null;
  }

  async listReputations(): Promise<ReputationRecord[]> {
    const { rows } = await this.pool.query('SELECT * FROM reputation ORDER BY contributor_id');
    return (rows as Row[]).map(toReputation);
  }

  async setQuarantined(contributorId: string, quarantined: boolean, now: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO reputation (contributor_id, checks_passed, checks_failed, quarantined, updated_at)
       VALUES ($1, 0, 0, $2, $3)
       ON CONFLICT (contributor_id) DO UPDATE SET quarantined = excluded.quarantined, updated_at = excluded.updated_at`,
      [contributorId, quarantined ? 1 : 0, now],
    );
  }

  async releaseQuarantine(contributorId: string, now: string): Promise<ReputationRecord | null> {
    // One statement, so a check recorded meanwhile lands either before the reset or after it.
    const row = (
      await this.pool.query(
        `UPDATE reputation SET checks_passed = 0, checks_failed = 0, quarantined = 0, updated_at = $1
         WHERE contributor_id = $2 AND quarantined = 1 RETURNING *`,
        [now, contributorId],
      )
    ).rows[0] as Row | undefined;
    return row ? toReputation(row) : null;
  }
}
