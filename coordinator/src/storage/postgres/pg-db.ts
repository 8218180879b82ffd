/**
 * The PostgreSQL executor: runs the shared statements (../sql/statement.ts) on a pool, or on
 * one pooled connection inside a transaction.
 */
import type pg from 'pg';
import type { Row } from '../rows.ts';
import {
  type BatchOptions,
  type Db,
  postgresText,
  type Sql,
  type Statement,
  type Step,
} from '../sql/statement.ts';
import { type Queryable, transaction } from './pg-tx.ts';

export class PgSql implements Sql {
  constructor(private readonly conn: Queryable) {}

  async one(s: Statement, params: unknown[] = []): Promise<Row | null> {
    return ((await this.conn.query(postgresText(s), params)).rows[0] as Row | undefined) ?? null;
  }

  async all(s: Statement, params: unknown[] = []): Promise<Row[]> {
    return (await this.conn.query(postgresText(s), params)).rows as Row[];
  }

  async run(s: Statement, params: unknown[] = []): Promise<number> {
    return (await this.conn.query(postgresText(s), params)).rowCount ?? 0;
  }

  /** Runs text as written (several statements, no parameters): a migration. */
  async exec(text: string): Promise<void> {
    await this.conn.query(text);
  }

  /**
   * Takes a transaction-scoped advisory lock (PostgreSQL only; released at commit or rollback):
   * processes doing the same thing at once take turns. A string key is hashed to a number.
   */
  async lock(key: number | string): Promise<void> {
    const sql =
      typeof key === 'number'
        ? 'SELECT pg_advisory_xact_lock($1)'
        : 'SELECT pg_advisory_xact_lock(hashtext($1))';
    await this.conn.query(sql, [key]);
  }
}

/** The pool's executor, with transactions on one connection. */
export class PgDb extends PgSql implements Db {
  constructor(readonly pool: pg.Pool) {
    super(pool);
  }

  async batch(steps: Step[], options: BatchOptions = {}): Promise<Row[][]> {
    if (steps.length === 0) return [];
    return this.transaction(async (tx) => {
      // For this transaction only: COMMIT answers before its WAL record is flushed.
      if (options.lazy) await tx.run('SET LOCAL synchronous_commit = off');
      const rows: Row[][] = [];
      for (const [s, params] of steps) rows.push(await tx.all(s, params));
      return rows;
    });
  }

  /** Runs `work` in one transaction on one pooled connection. */
  transaction<T>(work: (tx: PgSql) => Promise<T>): Promise<T> {
    return transaction(this.pool, (client) => work(new PgSql(client)));
  }
}
