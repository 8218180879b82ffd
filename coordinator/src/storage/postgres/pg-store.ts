/**
 * The shared Store on PostgreSQL (`DATABASE_URL`): several coordinator processes read and write
 * the same tables. Same schema and migrations as the embedded store (migrations.ts), applied
 * under an advisory lock so processes starting together do not race; the same transactions
 * where SQLite has them (createJob, commitVersion, and the registry's rename and alias moves).
 */
import type { JobStatus } from '@gridtab/shared';
import pg from 'pg';
import { MIGRATIONS } from '../migrations.ts';
import { assertRound, JOBS_SQL, versionValues } from '../sql/jobs-sql.ts';
import { MIGRATE_SQL } from '../sql/migrate-sql.ts';
import { StoreQueries } from '../sql/store-queries.ts';
import type { Store, VersionRecord } from '../store.ts';
import { PgDb } from './pg-db.ts';
import { PgRegistryStore } from './pg-registry.ts';

/** Any key: it only has to be the same in every GridTab process sharing the database. */
const MIGRATION_LOCK = 7_246_001;

async function migrate(db: PgDb): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.lock(MIGRATION_LOCK);
    await tx.run(MIGRATE_SQL.createTable);
    const done = new Set((await tx.all(MIGRATE_SQL.applied)).map((r) => r.version as number));
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await tx.exec(m.postgres ?? m.sql);
      await tx.run(MIGRATE_SQL.record, [m.version]);
    }
  });
}

export class PgStore extends StoreQueries implements Store {
  readonly registry: PgRegistryStore;

  private constructor(
    private readonly db: PgDb,
    private readonly ownsPool: boolean,
  ) {
    super(db);
    this.registry = new PgRegistryStore(db);
  }

  /** The pool, shared with the PostgreSQL blob store. */
  get pool(): pg.Pool {
    return this.db.pool;
  }

  /** Opens (and migrates) the database at `url` (a pool of its own), or uses the given pool. */
  static async open(target: string | pg.Pool): Promise<PgStore> {
    const pool = typeof target === 'string' ? ownPool(target) : target;
    const db = new PgDb(pool);
    try {
      await migrate(db);
    } catch (e) {
      if (typeof target === 'string') await pool.end();
      throw e;
    }
    return new PgStore(db, typeof target === 'string');
  }

  async commitVersion(version: VersionRecord, nextRound: number, status: JobStatus): Promise<void> {
    await this.db.transaction(async (tx) => {
      assertRound(version, await tx.one(JOBS_SQL.jobRound, [version.jobId]));
      await tx.run(JOBS_SQL.insertVersion, versionValues(version));
      await tx.run(JOBS_SQL.advanceJob, [nextRound, version.id, status, version.jobId]);
    });
  }

  async close(): Promise<void> {
    if (this.ownsPool && !this.pool.ended) await this.pool.end();
  }
}

/**
 * A pool that survives its idle connections ending under it (a server restart, an administrator
 * terminating backends): pg reports that as an 'error' event on the pool, and an 'error' event
 * with no listener ends the Node process. The pool drops the dead client and opens a new one on
 * the next query; a query in flight still fails to its caller.
 */
export function ownPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', (e) =>
    process.emitWarning(`an idle PostgreSQL connection ended (${e.message}); the pool opens another`),
  );
  return pool;
}
