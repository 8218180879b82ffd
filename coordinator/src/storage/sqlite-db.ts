/**
 * The SQLite executor: runs the shared statements (sql/statement.ts) on better-sqlite3,
 * synchronously. Transactions take a synchronous body, so nothing else can run on the
 * connection between their statements.
 */
import type Database from 'better-sqlite3';
import type { Row } from './rows.ts';
import { type Sql, type Statement, sqliteText } from './sql/statement.ts';

export class SqliteDb implements Sql {
  constructor(readonly raw: Database.Database) {}

  one(s: Statement, params: unknown[] = []): Row | null {
    return (this.raw.prepare(sqliteText(s)).get(...params) as Row | undefined) ?? null;
  }

  all(s: Statement, params: unknown[] = []): Row[] {
    return this.raw.prepare(sqliteText(s)).all(...params) as Row[];
  }

  run(s: Statement, params: unknown[] = []): number {
    return this.raw.prepare(sqliteText(s)).run(...params).changes;
  }

  /** Runs text as written (several statements, no parameters): a migration. */
  exec(text: string): void {
    this.raw.exec(text);
  }

  /** Runs `work` in one transaction (better-sqlite3's: committed on return, rolled back on throw). */
  transaction<T>(work: () => T): T {
    return this.raw.transaction(work)();
  }
}
