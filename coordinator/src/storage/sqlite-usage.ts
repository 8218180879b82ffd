/** Usage counters and retention marks on the embedded SQLite store (see usage-records.ts). */
import type Database from 'better-sqlite3';
import type { Row } from './rows.ts';
import {
  ADD_USAGE_SQL,
  addUsageParams,
  COLLECTED_SQL,
  HELD_BLOBS_SQL,
  listUsageSql,
  REFERENCED_SQL,
  RELEASE_SQL,
  RELEASED_SQL,
  referencedParams,
  toUsage,
  type UsageQuery,
  type UsageRow,
  type UsageStore,
} from './usage-records.ts';

export class SqliteUsageStore implements UsageStore {
  constructor(private readonly db: Database.Database) {}

  async add(rows: UsageRow[]): Promise<void> {
    const insert = this.db.prepare(ADD_USAGE_SQL);
    this.db.transaction(() => {
      for (const r of rows) insert.run(...addUsageParams(r));
    })();
  }

  async list(query: UsageQuery): Promise<UsageRow[]> {
    const { sql, params } = listUsageSql(query);
    return (this.db.prepare(sql).all(...params) as Row[]).map(toUsage);
  }

  async heldUpdateBlobs(jobId: string): Promise<string[]> {
    return (this.db.prepare(HELD_BLOBS_SQL).all(jobId) as Row[]).map((r) => r.blob_hash as string);
  }

  async releaseUpdateBlobs(jobId: string, throughRound: number): Promise<number> {
    return this.db.prepare(RELEASE_SQL).run(jobId, throughRound).changes;
  }

  async releasedBlobs(limit: number): Promise<string[]> {
    return (this.db.prepare(RELEASED_SQL).all(limit) as Row[]).map((r) => r.blob_hash as string);
  }

  async blobReferenced(hash: string): Promise<boolean> {
    return this.db.prepare(REFERENCED_SQL).get(...referencedParams(hash)) !== undefined;
  }

  async markCollected(hash: string): Promise<void> {
    this.db.prepare(COLLECTED_SQL).run(hash);
  }
}
