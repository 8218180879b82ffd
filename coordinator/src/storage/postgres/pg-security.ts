/** The security records (security-records.ts) on PostgreSQL. */
import type pg from 'pg';
import { type Row, toContributor } from '../rows.ts';
import {
  type AuditRecord,
  type ContributorCursor,
  IDLE_CONTRIBUTORS,
  type SecurityStore,
  toAudit,
} from '../security-records.ts';
import type { ContributorRecord } from '../store.ts';

export class PgSecurityStore implements SecurityStore {
  constructor(private readonly pool: pg.Pool) {}

  async appendAudit(e: AuditRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO audit_log (at, actor, action, target, address, detail) VALUES ($1, $2, $3, $4, $5, $6)',
      [e.at, e.actor, e.action, e.target, e.address, e.detail],
    );
  }

  async listAudit(limit: number, before: number | null): Promise<AuditRecord[]> {
    const { rows } = await this.pool.query(
      'SELECT * FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2',
      [before ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return (rows as Row[]).map(toAudit);
  }

  async pageContributors(limit: number, after: ContributorCursor | null): Promise<ContributorRecord[]> {
    const { rows } = after
      ? await this.pool.query(
          `SELECT * FROM contributors WHERE last_seen < $1 OR (last_seen = $1 AND id < $2)
           ORDER BY last_seen DESC, id DESC LIMIT $3`,
          [after.lastSeen, after.id, limit],
        )
      : await this.pool.query('SELECT * FROM contributors ORDER BY last_seen DESC, id DESC LIMIT $1', [
          limit,
        ]);
    return (rows as Row[]).map(toContributor);
  }

  async deleteIdleContributors(seenBefore: string): Promise<number> {
    const result = await this.pool.query(
      `DELETE FROM contributors WHERE ${IDLE_CONTRIBUTORS.replace('?', '$1')}`,
      [seenBefore],
    );
    return result.rowCount ?? 0;
  }
}
