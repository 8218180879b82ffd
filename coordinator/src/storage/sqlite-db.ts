/**
 * The SQLite executor: runs the shared statements (sql/statement.ts) on better-sqlite3,
 * synchronously. Transactions take a synchronous body, so nothing else can run on the
 * connection between their statements.
 */
import type Database from 'better-sqlite3';
import type { Row } from './rows.ts';
import { type BatchOptions, type Db, type Statement, type Step, sqliteText } from './sql/statement.ts';

export class SqliteDb implements Db {
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

  batch(steps: Step[], options: BatchOptions = {}): Row[][] {
    if (steps.length === 0) return [];
    if (options.lazy) {
      // The pragma cannot change inside a transaction: around it, then back to what it was.
      const was = this.raw.pragma('synchronous', { simple: true }) as number;
      this.raw.pragma('synchronous = NORMAL');
      try {
        return this.batch(steps);
      } finally {
        this.raw.pragma(`synchronous = ${was}`);
      }
    }
    // A batch repeats a statement (one upsert a row): each text is prepared once.
    const prepared = new Map<string, Database.Statement>();
    return this.transaction(() =>
      steps.map(([s, params]) => {
        const text = sqliteText(s);
        const stmt = prepared.get(text) ?? this.raw.prepare(text);
        prepared.set(text, stmt);
        if (stmt.reader) return stmt.all(...params) as Row[];
        stmt.run(...params);
        return [];
      }),
    );
  }

  /** Runs `work` in one transaction (better-sqlite3's: committed on return, rolled back on throw). */
  transaction<T>(work: () => T): T {
    return this.raw.transaction(work)();
  }
}
