/**
 * Usage counters and retention marks (see usage-records.ts for the statements), run the same
 * way on SQLite and PostgreSQL through either store's executor.
 */
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
} from '../usage-records.ts';
import type { Db } from './statement.ts';

export class UsageQueries implements UsageStore {
  constructor(private readonly sql: Db) {}

  async add(rows: UsageRow[]): Promise<void> {
    await this.sql.batch(rows.map((r) => [ADD_USAGE_SQL, addUsageParams(r)] as const));
  }

  async list(query: UsageQuery): Promise<UsageRow[]> {
    const { sql, params } = listUsageSql(query);
    return (await this.sql.all(sql, params)).map(toUsage);
  }

  async heldUpdateBlobs(jobId: string): Promise<string[]> {
    return (await this.sql.all(HELD_BLOBS_SQL, [jobId])).map((r) => r.blob_hash as string);
  }

  async releaseUpdateBlobs(jobId: string, throughRound: number): Promise<number> {
    return this.sql.run(RELEASE_SQL, [jobId, throughRound]);
  }

  async releasedBlobs(limit: number): Promise<string[]> {
    return (await this.sql.all(RELEASED_SQL, [limit])).map((r) => r.blob_hash as string);
  }

  async blobReferenced(hash: string): Promise<boolean> {
    return (await this.sql.one(REFERENCED_SQL, referencedParams(hash))) !== null;
  }

  async markCollected(hash: string): Promise<void> {
    await this.sql.run(COLLECTED_SQL, [hash]);
  }
}
