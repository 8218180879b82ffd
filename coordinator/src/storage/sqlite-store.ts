/**
 * Embedded Store on SQLite (better-sqlite3). WAL with synchronous=FULL: a transaction that
 * returned is on disk, so acknowledged jobs, updates and versions survive a crash or SIGKILL.
 * better-sqlite3 is synchronous, so each method runs its statements (and transactions) in one
 * go and returns an already-settled Promise to fit the async Store interface.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JobSpec, JobStatus } from '@gridtab/shared';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.ts';
import {
  blobsInUseSql,
  datasetValues,
  PUT_DATASET_SQL,
  type Row,
  toBan,
  toContributor,
  toDataset,
  toJob,
  toToken,
  toUpdate,
  toVersion,
} from './rows.ts';
import { SqliteRegistryStore } from './sqlite-registry.ts';
import { SqliteReputationStore } from './sqlite-reputation.ts';
import { SqliteVersionRetentionStore } from './sqlite-retention.ts';
import { SqliteSecurityStore } from './sqlite-security.ts';
import { SqliteSweepStore } from './sqlite-sweeps.ts';
import { SqliteUsageStore } from './sqlite-usage.ts';
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
} from './store.ts';

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  readonly registry: SqliteRegistryStore;
  readonly reputation: SqliteReputationStore;
  readonly sweeps: SqliteSweepStore;
  readonly security: SqliteSecurityStore;
  readonly usage: SqliteUsageStore;
  readonly versionRetention: SqliteVersionRetentionStore;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.registry = new SqliteRegistryStore(this.db);
    this.reputation = new SqliteReputationStore(this.db);
    this.sweeps = new SqliteSweepStore(this.db);
    this.security = new SqliteSecurityStore(this.db);
    this.usage = new SqliteUsageStore(this.db);
    this.versionRetention = new SqliteVersionRetentionStore(this.db);
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)');
    const done = new Set(
      this.db
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map((r) => (r as Row).version as number),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version) VALUES (?)').run(m.version);
      })();
    }
  }

  async createJob(job: JobRecord, initial: VersionRecord): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO jobs (id, name, spec, status, round, version_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(job.id, job.name, JSON.stringify(job.spec), job.status, 1, initial.id, job.createdAt);
      this.insertVersion(initial);
    })();
  }

  async getJob(id: string): Promise<JobRecord | null> {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row ? toJob(row) : null;
  }

  async listJobs(): Promise<JobRecord[]> {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY created_at, id').all() as Row[]).map(toJob);
  }

  async setJobStatus(id: string, status: JobStatus): Promise<void> {
    this.db.prepare('UPDATE jobs SET status = ? WHERE id = ?').run(status, id);
  }

  async setJobSpec(id: string, spec: JobSpec): Promise<boolean> {
    return (
      this.db.prepare('UPDATE jobs SET spec = ? WHERE id = ?').run(JSON.stringify(spec), id).changes === 1
    );
  }

  private insertVersion(v: VersionRecord): void {
    this.db
      .prepare(
        `INSERT INTO versions (id, job_id, round, hash, parent_id, num_samples, unit_ids, test_accuracy, test_loss, created_at, state_hash, test_r2, test_mae, test_rmse)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
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
      );
  }

  async commitVersion(version: VersionRecord, nextRound: number, status: JobStatus): Promise<void> {
    this.db.transaction(() => {
      const row = this.db.prepare('SELECT round FROM jobs WHERE id = ?').get(version.jobId) as
        | { round: number }
        | undefined;
      if (!row || row.round !== version.round)
        throw new StaleRoundError(version.jobId, version.round, row?.round);
      this.insertVersion(version);
      this.db
        .prepare('UPDATE jobs SET round = ?, version_id = ?, status = ? WHERE id = ?')
        .run(nextRound, version.id, status, version.jobId);
    })();
  }

  async getVersion(id: string): Promise<VersionRecord | null> {
    const row = this.db.prepare('SELECT * FROM versions WHERE id = ?').get(id) as Row | undefined;
    return row ? toVersion(row) : null;
  }

  async listVersions(jobId: string): Promise<VersionRecord[]> {
    return (
      this.db.prepare('SELECT * FROM versions WHERE job_id = ? ORDER BY round').all(jobId) as Row[]
    ).map(toVersion);
  }

  async insertUpdate(u: UpdateRecord): Promise<boolean> {
    const result = this.db
      .prepare(
        `INSERT INTO updates (id, job_id, round, unit_id, contributor_id, base_version_id, num_samples, loss, blob_hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, round, unit_id) DO NOTHING`,
      )
      .run(
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
      );
    return result.changes === 1;
  }

  async listUpdates(jobId: string, round: number): Promise<UpdateRecord[]> {
    return (
      this.db
        .prepare('SELECT * FROM updates WHERE job_id = ? AND round = ? ORDER BY created_at, id')
        .all(jobId, round) as Row[]
    ).map(toUpdate);
  }

  async putDataset(d: DatasetRecord): Promise<void> {
    this.db.prepare(PUT_DATASET_SQL).run(...datasetValues(d));
  }

  async getDataset(id: string): Promise<DatasetRecord | null> {
    const row = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as Row | undefined;
    return row ? toDataset(row) : null;
  }

  async listDatasets(): Promise<DatasetRecord[]> {
    return (this.db.prepare('SELECT * FROM datasets ORDER BY id').all() as Row[]).map(toDataset);
  }

  async listDatasetVersions(name: string): Promise<DatasetRecord[]> {
    return (this.db.prepare('SELECT * FROM datasets WHERE name = ? ORDER BY version').all(name) as Row[]).map(
      toDataset,
    );
  }

  async deleteDataset(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id).changes === 1;
  }

  async blobsInUse(hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const params = Array.from({ length: 5 }, () => hashes).flat();
    const rows = this.db.prepare(blobsInUseSql(hashes.length)).all(...params) as Row[];
    return new Set(rows.map((r) => r.h as string));
  }

  async upsertContributor(clientId: string, backend: string | null, now: string): Promise<ContributorRecord> {
    this.db
      .prepare(
        `INSERT INTO contributors (id, client_id, backend, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (client_id) DO UPDATE SET backend = excluded.backend, last_seen = excluded.last_seen`,
      )
      .run(`c-${randomUUID().slice(0, 8)}`, clientId, backend, now, now);
    return toContributor(
      this.db.prepare('SELECT * FROM contributors WHERE client_id = ?').get(clientId) as Row,
    );
  }

  async recordContribution(contributorId: string, samples: number, now: string): Promise<void> {
    this.db
      .prepare(
        'UPDATE contributors SET units_done = units_done + 1, samples_done = samples_done + ?, last_seen = ? WHERE id = ?',
      )
      .run(samples, now, contributorId);
  }

  async listContributors(): Promise<ContributorRecord[]> {
    return (this.db.prepare('SELECT * FROM contributors ORDER BY last_seen DESC').all() as Row[]).map(
      toContributor,
    );
  }

  async banContributor(b: BanRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO contributor_bans (contributor_id, reason, banned_at) VALUES (?, ?, ?)
         ON CONFLICT (contributor_id) DO UPDATE SET reason = excluded.reason, banned_at = excluded.banned_at`,
      )
      .run(b.contributorId, b.reason, b.bannedAt);
  }

  async unbanContributor(contributorId: string): Promise<boolean> {
    return (
      this.db.prepare('DELETE FROM contributor_bans WHERE contributor_id = ?').run(contributorId).changes ===
      1
    );
  }

  async getBan(contributorId: string): Promise<BanRecord | null> {
    const row = this.db
      .prepare('SELECT * FROM contributor_bans WHERE contributor_id = ?')
      .get(contributorId) as Row | undefined;
    return row ? toBan(row) : null;
  }

  async listBans(): Promise<BanRecord[]> {
    return (this.db.prepare('SELECT * FROM contributor_bans ORDER BY banned_at').all() as Row[]).map(toBan);
  }

  async insertToken(t: TokenRecord): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO api_tokens (id, role, label, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(t.id, t.role, t.label, t.hash, t.createdAt, t.revokedAt);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE hash = ?').get(hash) as Row | undefined;
    return row ? toToken(row) : null;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (this.db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id').all() as Row[]).map(toToken);
  }

  async revokeToken(id: string, now: string): Promise<boolean> {
    return (
      this.db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id)
        .changes === 1
    );
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
