/**
 * One source of SQL for both stores. A statement is written once with `?` placeholders; the
 * PostgreSQL executor numbers them ($1, $2...). Where the engines really differ (row locks,
 * advisory locks), the statement names both texts side by side, so the difference is visible
 * in one place rather than hidden in two files.
 */
import type { Row } from '../rows.ts';

/** Portable text, or each engine's own text where they differ. */
export type Statement = string | { sqlite: string; postgres: string };

/**
 * What both executors offer for single statements: SQLite's answers at once, PostgreSQL's as a
 * Promise, so code written with `await` runs on either (SQLite's statement still runs when called).
 */
export interface Sql {
  one(statement: Statement, params?: unknown[]): Row | null | Promise<Row | null>;
  all(statement: Statement, params?: unknown[]): Row[] | Promise<Row[]>;
  /** Runs a write; the number of rows it changed. */
  run(statement: Statement, params?: unknown[]): number | Promise<number>;
}

/** One statement and its parameters, a step of a batch. */
export type Step = readonly [Statement, unknown[]];

/**
 * A store's executor (not one inside a transaction): it also runs a fixed list of writes as one
 * transaction. A transaction that must read before it decides what to write is the store's own
 * (SQLite's body is synchronous, PostgreSQL's is not), but one whose statements are known up
 * front is written once, as steps.
 */
export interface Db extends Sql {
  /** Runs the steps in order in one transaction; the rows each step returned (none for a plain write). */
  batch(steps: Step[], options?: BatchOptions): Row[][] | Promise<Row[][]>;
}

export interface BatchOptions {
  /**
   * Commit without waiting for the disk: SQLite with synchronous = NORMAL for this transaction
   * (in WAL mode: no fsync at commit; the rows reach the disk with the next fsynced commit or
   * checkpoint), PostgreSQL with synchronous_commit off for it. Either way the commit is atomic
   * and visible at once, and a crash of the coordinator process loses nothing; only a crash of
   * the machine (or of PostgreSQL) may lose the last such commits. Only for rows that are not
   * acknowledged data and are written again anyway (contributor rows: see join-writes.ts).
   */
  lazy?: boolean;
}

/** SQLite's text of a statement. */
export const sqliteText = (s: Statement): string => (typeof s === 'string' ? s : s.sqlite);

/** PostgreSQL's text of a statement, its `?` placeholders numbered. */
export const postgresText = (s: Statement): string => numbered(typeof s === 'string' ? s : s.postgres);

/** `?` placeholders numbered as PostgreSQL wants them ($1, $2, ...). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * A row read inside a write transaction that decides what the transaction writes. PostgreSQL
 * locks the row (`FOR UPDATE`) so concurrent processes take turns; SQLite has no row locks and
 * needs none: its one writer holds the whole database for the transaction.
 */
export const lockedRead = (sql: string): Statement => ({ sqlite: sql, postgres: `${sql} FOR UPDATE` });

/** `count` placeholders for an IN list. */
export const placeholders = (count: number): string => Array.from({ length: count }, () => '?').join(', ');
