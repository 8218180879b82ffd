/** Usage counters and retention marks on PostgreSQL (see usage-records.ts): the same SQL, numbered. */

import type pg from 'pg';
import type { Row } from '../rows.ts';
import { numbered } from '../sql/statement.ts';
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
import { transaction } from './pg-tx.ts';

const ADD = numbered(ADD_USAGE_SQL);
const HELD = numbered(HELD_BLOBS_SQL);
const RELEASE = numbered(RELEASE_SQL);
const RELEASED = numbered(RELEASED_SQL);
const REFERENCED = numbered(REFERENCED_SQL);
const COLLECTED = numbered(COLLECTED_SQL);

export class PgUsageStore implements UsageStore {
  constructor(private readonly pool: pg.Pool) {}

  async add(rows: UsageRow[]): Promise<void> {
    if (rows.length === 0) return;
    await transaction(this.pool, async (client) => {
      for (const r of rows) await client.query(ADD, addUsageParams(r));
    });
  }

  async list(query: UsageQuery): Promise<UsageRow[]> {
    const { sql, params } = listUsageSql(query);
    return ((await this.pool.query(numbered(sql), params)).rows as Row[]).map(toUsage);
  }

  async heldUpdateBlobs(jobId: string): Promise<string[]> {
    return ((await this.pool.query(HELD, [jobId])).rows as Row[]).map((r) => r.blob_hash as string);
  }

  async releaseUpdateBlobs(jobId: string, throughRound: number): Promise<number> {
    return (await this.pool.query(RELEASE, [jobId, throughRound])).rowCount ?? 0;
  }

  async releasedBlobs(limit: number): Promise<string[]> {
    return ((await this.pool.query(RELEASED, [limit])).rows as Row[]).map((r) => r.blob_hash as string);
  }

  async blobReferenced(hash: string): Promise<boolean> {
    return ((await this.pool.query(REFERENCED, referencedParams(hash))).rowCount ?? 0) > 0;
  }

  async markCollected(hash: string): Promise<void> {
    await this.pool.query(COLLECTED, [hash]);
  }
}
