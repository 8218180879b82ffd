/** The security records (security-records.ts) on the embedded SQLite store. */
import type Database from 'better-sqlite3';
import { type Row, toContributor } from './rows.ts';
import {
  type AuditRecord,
  type ContributorCursor,
  IDLE_CONTRIBUTORS,
  type SecurityStore,
  toAudit,
} from './security-records.ts';
import type { ContributorRecord } from './store.ts';

export class SqliteSecurityStore implements SecurityStore {
  constructor(private readonly db: Database.Database) {}

  async appendAudit(e: AuditRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO audit_log (at, actor, action, target, address, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.at, e.actor, e.action, e.target, e.address, e.detail);
  }

  async listAudit(limit: number, before: number | null): Promise<AuditRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?')
      .all(before ?? Number.MAX_SAFE_INTEGER, limit) as Row[];
    return rows.map(toAudit);
  }

  async pageContributors(limit: number, after: ContributorCursor | null): Promise<ContributorRecord[]> {
    const rows = after
      ? this.db
          .prepare(
            `SELECT * FROM contributors WHERE last_seen < ? OR (last_seen = ? AND id < ?)
             ORDER BY last_seen DESC, id DESC LIMIT ?`,
          )
          .all(after.lastSeen, after.lastSeen, after.id, limit)
      : this.db.prepare('SELECT * FROM contributors ORDER BY last_seen DESC, id DESC LIMIT ?').all(limit);
    return (rows as Row[]).map(toContributor);
  }

  async deleteIdleContributors(seenBefore: string): Promise<number> {
    return this.db.prepare(`DELETE FROM contributors WHERE ${IDLE_CONTRIBUTORS}`).run(seenBefore).changes;
  }
}
