/**
 * The shared Store on PostgreSQL (`DATABASE_URL`): several coordinator processes read and write
 * the same tables. Same schema and migrations as the embedded store (migrations.ts), applied
 * under an advisory lock so processes starting together do not race; the same transactions
 * where SQLite has them (createJob, commitVersion, and the registry's rename and alias moves).
 */
import { randomUUID } from 'node:crypto';
import type { JobSpec, JobStatus } from '@gridtab/shared';
import pg from 'pg';
import { MIGRATIONS } from '../migrations.ts';
import {
  blobsInUseSql,
  datasetValues,
  numbered,
  PUT_DATASET_SQL,
  type Row,
  toBan,
  toContributor,
  toDataset,
  toJob,
  toToken,
  toUpdate,
  toVersion,
} from '../rows.ts';
import {
  type BanRecord,
  type ContributorRecord,
  type DatasetRecord,
  type JobRecord,
  StaleRoundError,
  type Store,
  type TokenRecord,
  type UpdateRecord,
  type VersionRecord,
} from '../store.ts';
import { PgRegistryStore } from './pg-registry.ts';
import { PgReputationStore } from './pg-reputation.ts';
import { PgVersionRetentionStore } from './pg-retention.ts';
import { PgSecurityStore } from './pg-security.ts';
import { PgSweepStore } from './pg-sweeps.ts';
import { type Queryable, transaction } from './pg-tx.ts';
import { PgUsageStore } from './pg-usage.ts';

/** Any key: it only has to be the same in every GridTab process sharing the database. */
const MIGRATION_LOCK = 7_246_001;

async function migrate(pool: pg.Pool): Promise<void> {
  await transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)');
    const done = new Set(
      (await client.query('SELECT version FROM schema_migrations')).rows.map((r) => r.version as number),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.postgres ?? m.sql);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
    }
  });
}

async function insertVersion(db: Queryable, v: VersionRecord): Promise<void> {
  await db.query(
    `INSERT INTO versions (id, job_id, round, hash, parent_id, num_samples, unit_ids, test_accuracy, test_loss, created_at, state_hash, test_r2, test_mae, test_rmse)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      v.id,
      v.jobId,
      v.round,
      v.hash,
      v.parentId,
      v.numSamples,
      JSON.stringify(v.unitIds),
      v.metrics.testAccuracy,
      v.metrics.testLoss,
      v.createdAt,
      v.stateHash ?? null,
      v.metrics.testR2 ?? null,
      v.metrics.testMae ?? null,
      v.metrics.testRmse ?? null,
    ],
  );
}

export class PgStore implements Store {
  readonly registry: PgRegistryStore;
  readonly sweeps: PgSweepStore;
  readonly security: PgSecurityStore;
  readonly reputation: PgReputationStore;
  readonly usage: PgUsageStore;
  readonly versionRetention: PgVersionRetentionStore;

  private constructor(
    readonly pool: pg.Pool,
    private readonly ownsPool: boolean,
  ) {
    this.registry = new PgRegistryStore(pool);
    this.sweeps = new PgSweepStore(pool);
    this.security = new PgSecurityStore(pool);
    this.reputation = new PgReputationStore(pool);
    this.usage = new PgUsageStore(pool);
    this.versionRetention = new PgVersionRetentionStore(pool);
  }

  /** Opens (and migrates) the database at `url`, or uses the given pool. */
  static async open(target: string | pg.Pool): Promise<PgStore> {
    const pool = typeof target === 'string' ? new pg.Pool({ connectionString: target, max: 10 }) : target;
    try {
      await migrate(pool);
    } catch (e) {
      if (typeof target === 'string') await pool.end();
      throw e;
    }
    return new PgStore(pool, typeof target === 'string');
  }

  private async one(sql: string, params: unknown[]): Promise<Row | null> {
    return ((await this.pool.query(sql, params)).rows[0] as Row | undefined) ?? null;
  }

  private async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, params)).rows as Row[];
  }

  async createJob(job: JobRecord, initial: VersionRecord): Promise<void> {
    await transaction(this.pool, async (client) => {
      await client.query(
        'INSERT INTO jobs (id, name, spec, status, round, version_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [job.id, job.name, JSON.stringify(job.spec), job.status, 1, initial.id, job.createdAt],
      );
      await insertVersion(client, initial);
    });
  }

  async getJob(id: string): Promise<JobRecord | null> {
    const row = await this.one('SELECT * FROM jobs WHERE id = $1', [id]);
    return row ? toJob(row) : null;
  }

  async listJobs(): Promise<JobRecord[]> {
    return (await this.all('SELECT * FROM jobs ORDER BY created_at, id')).map(toJob);
  }

  async setJobStatus(id: string, status: JobStatus): Promise<void> {
    await this.pool.query('UPDATE jobs SET status = $1 WHERE id = $2', [status, id]);
  }

  async setJobSpec(id: string, spec: JobSpec): Promise<boolean> {
    const result = await this.pool.query('UPDATE jobs SET spec = $1 WHERE id = $2', [
      JSON.stringify(spec),
      id,
    ]);
    return result.rowCount === 1;
  }

  async commitVersion(version: VersionRecord, nextRound: number, status: JobStatus): Promise<void> {
    await transaction(this.pool, async (client) => {
      // The row lock orders commits of one job; the round check refuses a commit from a process
      // that lost the job's ownership while it aggregated (the new owner has moved on).
      const row = (await client.query('SELECT round FROM jobs WHERE id = $1 FOR UPDATE', [version.jobId]))
        .rows[0] as { round: number } | undefined;
      if (!row || row.round !== version.round)
        throw new StaleRoundError(version.jobId, version.round, row?.round);
      await insertVersion(client, version);
      await client.query('UPDATE jobs SET round = $1, version_id = $2, status = $3 WHERE id = $4', [
        nextRound,
        version.id,
        status,
        version.jobId,
      ]);
    });
  }

  async getVersion(id: string): Promise<VersionRecord | null> {
    const row = await this.one('SELECT * FROM versions WHERE id = $1', [id]);
    return row ? toVersion(row) : null;
  }

  async listVersions(jobId: string): Promise<VersionRecord[]> {
    return (await this.all('SELECT * FROM versions WHERE job_id = $1 ORDER BY round', [jobId])).map(
      toVersion,
    );
  }

  async insertUpdate(u: UpdateRecord): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO updates (id, job_id, round, unit_id, contributor_id, base_version_id, num_samples, loss, blob_hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (job_id, round, unit_id) DO NOTHING`,
      [
        u.id,
        u.jobId,
        u.round,
        u.unitId,
        u.contributorId,
        u.baseVersionId,
        u.numSamples,
        u.loss,
        u.blobHash,
        u.createdAt,
      ],
    );
    return result.rowCount === 1;
  }

  async listUpdates(jobId: string, round: number): Promise<UpdateRecord[]> {
    return (
      await this.all('SELECT * FROM updates WHERE job_id = $1 AND round = $2 ORDER BY created_at, id', [
        jobId,
        round,
      ])
    ).map(toUpdate);
  }

  async putDataset(d: DatasetRecord): Promise<void> {
    await this.pool.query(numbered(PUT_DATASET_SQL), datasetValues(d));
  }

  async getDataset(id: string): Promise<DatasetRecord | null> {
    const row = await this.one('SELECT * FROM datasets WHERE id = $1', [id]);
    return row ? toDataset(row) : null;
  }

  async listDatasets(): Promise<DatasetRecord[]> {
    return (await this.all('SELECT * FROM datasets ORDER BY id')).map(toDataset);
  }

  async listDatasetVersions(name: string): Promise<DatasetRecord[]> {
    return (await this.all('SELECT * FROM datasets WHERE name = $1 ORDER BY version', [name])).map(toDataset);
  }

  async deleteDataset(id: string): Promise<boolean> {
    return (await this.pool.query('DELETE FROM datasets WHERE id = $1', [id])).rowCount === 1;
  }

  async blobsInUse(hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const params = Array.from({ length: 5 }, () => hashes).flat();
    const rows = await this.all(numbered(blobsInUseSql(hashes.length)), params);
    return new Set(rows.map((r) => r.h as string));
  }

  async upsertContributor(clientId: string, backend: string | null, now: string): Promise<ContributorRecord> {
    const row = await this.one(
      `INSERT INTO contributors (id, client_id, backend, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (client_id) DO UPDATE SET backend = excluded.backend, last_seen = excluded.last_seen
       RETURNING *`,
      [`c-${randomUUID().slice(0, 8)}`, clientId, backend, now, now],
    );
    return toContributor(row!);
  }

  async recordContribution(contributorId: string, samples: number, now: string): Promise<void> {
    await this.pool.query(
      'UPDATE contributors SET units_done = units_done + 1, samples_done = samples_done + $1, last_seen = $2 WHERE id = $3',
      [samples, now, contributorId],
    );
  }

  async listContributors(): Promise<ContributorRecord[]> {
    return (await this.all('SELECT * FROM contributors ORDER BY last_seen DESC')).map(toContributor);
  }

  async banContributor(b: BanRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO contributor_bans (contributor_id, reason, banned_at) VALUES ($1, $2, $3)
       ON CONFLICT (contributor_id) DO UPDATE SET reason = excluded.reason, banned_at = excluded.banned_at`,
      [b.contributorId, b.reason, b.bannedAt],
    );
  }

  async unbanContributor(contributorId: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM contributor_bans WHERE contributor_id = $1', [
      contributorId,
    ]);
    return result.rowCount === 1;
  }

  async getBan(contributorId: string): Promise<BanRecord | null> {
    const row = await this.one('SELECT * FROM contributor_bans WHERE contributor_id = $1', [contributorId]);
    return row ? toBan(row) : null;
  }

  async listBans(): Promise<BanRecord[]> {
    return (await this.all('SELECT * FROM contributor_bans ORDER BY banned_at')).map(toBan);
  }

  async insertToken(t: TokenRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO api_tokens (id, role, label, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [t.id, t.role, t.label, t.hash, t.createdAt, t.revokedAt],
    );
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    const row = await this.one('SELECT * FROM api_tokens WHERE hash = $1', [hash]);
    return row ? toToken(row) : null;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.all('SELECT * FROM api_tokens ORDER BY created_at, id')).map(toToken);
  }

  async revokeToken(id: string, now: string): Promise<boolean> {
    const result = await this.pool.query(
      'UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL',
      [now, id],
    );
    return result.rowCount === 1;
  }

  async close(): Promise<void> {
    if (this.ownsPool && !this.pool.ended) await this.pool.end();
  }
}
