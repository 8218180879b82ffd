/**
 * The shared Store on PostgreSQL (`DATABASE_URL`): several coordinator processes read and write
 * the same tables. Same schema and migrations as the embedded store (migrations.ts), applied
 * under an advisory lock so processes starting together do not race; the same transactions
 * where SQLite has them (createJob, commitVersion, and the registry's rename and alias moves).
 */
import type { JobStatus } from '@gridtab/shared';
import pg from 'pg';
import { MIGRATIONS } from '../migrations.ts';
import { assertRound, JOBS_SQL, newJobValues, versionValues } from '../sql/jobs-sql.ts';
import { LeaseQueries } from '../sql/lease-queries.ts';
import { MIGRATE_SQL } from '../sql/migrate-sql.ts';
import { VersionRetentionQueries } from '../sql/retention-queries.ts';
import { StoreQueries } from '../sql/store-queries.ts';
import type { JobRecord, Store, VersionRecord } from '../store.ts';
import { PgDb } from './pg-db.ts';
import { PgRegistryStore } from './pg-registry.ts';
import { PgReputationStore } from './pg-reputation.ts';
import { PgSecurityStore } from './pg-security.ts';
import { PgSweepStore } from './pg-sweeps.ts';
import { PgUsageStore } from './pg-usage.ts';

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
  readonly sweeps: PgSweepStore;
  readonly security: PgSecurityStore;
  readonly reputation: PgReputationStore;
  readonly usage: PgUsageStore;
  readonly versionRetention: VersionRetentionQueries;
  readonly leases: LeaseQueries;

  private constructor(
    private readonly db: PgDb,
    private readonly ownsPool: boolean,
  ) {
    super(db);
    this.registry = new PgRegistryStore(db);
    this.sweeps = new PgSweepStore(db);
    this.security = new PgSecurityStore(db.pool);
    this.reputation = new PgReputationStore(db.pool);
    this.usage = new PgUsageStore(db.pool);
    this.versionRetention = new VersionRetentionQueries(db);
    this.leases = new LeaseQueries(db);
  }

  /** The pool, shared with the PostgreSQL blob store. */
  get pool(): pg.Pool {
    return this.db.pool;
  }

  /** Opens (and migrates) the database at `url`, or uses the given pool. */
  static async open(target: string | pg.Pool): Promise<PgStore> {
    const pool = typeof target === 'string' ? new pg.Pool({ connectionString: target, max: 10 }) : target;
    const db = new PgDb(pool);
    try {
      await migrate(db);
    } catch (e) {
      if (typeof target === 'string') await pool.end();
      throw e;
    }
    return new PgStore(db, typeof target === 'string');
  }

  async createJob(job: JobRecord, initial: VersionRecord): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(JOBS_SQL.insertJob, newJobValues(job, initial));
      await tx.run(JOBS_SQL.insertVersion, versionValues(initial));
    });
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
