/** Usage counters on the embedded SQLite store (see usage-records.ts); shares its connection. */
import type Database from 'better-sqlite3';
import type { Row } from './rows.ts';
import {
  ADD_USAGE_SQL,
  addUsageParams,
  listUsageSql,
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
}
