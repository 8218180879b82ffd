/** Usage counters on PostgreSQL (see usage-records.ts): the same SQL, numbered placeholders. */
import type pg from 'pg';
import type { Row } from '../rows.ts';
import {
  ADD_USAGE_SQL,
  addUsageParams,
  listUsageSql,
  numbered,
  toUsage,
  type UsageQuery,
  type UsageRow,
  type UsageStore,
} from '../usage-records.ts';
import { transaction } from './pg-tx.ts';

const ADD = numbered(ADD_USAGE_SQL);

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
}
