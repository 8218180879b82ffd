/**
 * Embedded Store on SQLite (better-sqlite3). WAL with synchronous=FULL: a transaction that
 * returned is on disk, so acknowledged jobs, updates and versions survive a crash or SIGKILL.
 * One exception, lazy batches (sql/statement.ts): joins' contributor rows, committed without an
 * fsync and on disk with the next fsynced commit (realtime/join-writes.ts says why).
 * better-sqlite3 is synchronous, so each method runs its statements (and transactions) in one
 * go and returns an already-settled Promise to fit the async Store interface. The statements are
 * the ones PostgreSQL runs too (sql/); methods of one statement or a fixed batch are shared
 * (sql/store-queries.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JobStatus } from '@gridtab/shared';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.ts';
import { assertRound, JOBS_SQL, versionValues } from './sql/jobs-sql.ts';
import { MIGRATE_SQL } from './sql/migrate-sql.ts';
import { StoreQueries } from './sql/store-queries.ts';
import { SqliteDb } from './sqlite-db.ts';
import { SqliteRegistryStore } from './sqlite-registry.ts';
import type { Store, VersionRecord } from './store.ts';

/** Opens (creating its folder) and configures the database file; `:memory:` for tests. */
function openDatabase(file: string): SqliteDb {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  return new SqliteDb(db);
}

export class SqliteStore extends StoreQueries implements Store {
  private readonly db: SqliteDb;
  readonly registry: SqliteRegistryStore;

  constructor(file: string) {
    const db = openDatabase(file);
    super(db);
    this.db = db;
    this.migrate();
    this.registry = new SqliteRegistryStore(db);
  }

  private migrate(): void {
    this.db.run(MIGRATE_SQL.createTable);
    const done = new Set(this.db.all(MIGRATE_SQL.applied).map((r) => r.version as number));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.run(MIGRATE_SQL.record, [m.version]);
      });
    }
  }

  async commitVersion(version: VersionRecord, nextRound: number, status: JobStatus): Promise<void> {
    this.db.transaction(() => {
      assertRound(version, this.db.one(JOBS_SQL.jobRound, [version.jobId]));
      this.db.run(JOBS_SQL.insertVersion, versionValues(version));
      this.db.run(JOBS_SQL.advanceJob, [nextRound, version.id, status, version.jobId]);
    });
  }

  async close(): Promise<void> {
    this.db.raw.close();
  }
}
