/**
 * The security records (security-records.ts): the statements and the SecurityStore both engines
 * run over their executor.
 */
import { toAudit, toContributor } from '../rows.ts';
import type { AuditRecord, ContributorCursor, SecurityStore } from '../security-records.ts';
import type { ContributorRecord } from '../store.ts';
import type { Sql } from './statement.ts';

export const SECURITY_SQL = {
  appendAudit: 'INSERT INTO audit_log (at, actor, action, target, address, detail) VALUES (?, ?, ?, ?, ?, ?)',
  listAudit: 'SELECT * FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?',
  firstContributors: 'SELECT * FROM contributors ORDER BY last_seen DESC, id DESC LIMIT ?',
  /** The page after a cursor: last_seen, last_seen again, id, limit. */
  contributorsAfter: `SELECT * FROM contributors WHERE last_seen < ? OR (last_seen = ? AND id < ?)
    ORDER BY last_seen DESC, id DESC LIMIT ?`,
  /** Idle: never finished a unit, last seen before the cutoff, no ban or reputation to outlive it. */
  deleteIdleContributors: `DELETE FROM contributors WHERE units_done = 0 AND last_seen < ?
    AND id NOT IN (SELECT contributor_id FROM contributor_bans)
    AND id NOT IN (SELECT contributor_id FROM reputation)`,
} as const;

export class SecurityQueries implements SecurityStore {
  constructor(private readonly sql: Sql) {}

  async appendAudit(e: AuditRecord): Promise<void> {
    await this.sql.run(SECURITY_SQL.appendAudit, [e.at, e.actor, e.action, e.target, e.address, e.detail]);
  }

  async listAudit(limit: number, before: number | null): Promise<AuditRecord[]> {
    return (await this.sql.all(SECURITY_SQL.listAudit, [before ?? Number.MAX_SAFE_INTEGER, limit])).map(
      toAudit,
    );
  }

  async pageContributors(limit: number, after: ContributorCursor | null): Promise<ContributorRecord[]> {
    const rows = after
      ? await this.sql.all(SECURITY_SQL.contributorsAfter, [after.lastSeen, after.lastSeen, after.id, limit])
      : await this.sql.all(SECURITY_SQL.firstContributors, [limit]);
    return rows.map(toContributor);
  }

  async deleteIdleContributors(seenBefore: string): Promise<number> {
    return this.sql.run(SECURITY_SQL.deleteIdleContributors, [seenBefore]);
  }
}
