/**
 * The Store's methods that run one statement or a fixed batch, written once for both engines
 * over the `Db` executor. Each store (sqlite-store.ts, postgres/pg-store.ts) adds what differs:
 * opening and migrating, and the transaction that reads before it writes (commitVersion:
 * synchronous on SQLite, on one pooled connection on PostgreSQL).
 */

import { randomUUID } from 'node:crypto';
import type { JobSpec, JobStatus, VersionMetrics } from '@gridtab/shared';
import { toBan, toContributor, toDataset, toJob, toToken, toUpdate, toVersion } from '../rows.ts';
import type {
  BanRecord,
  ContributorJoin,
  ContributorRecord,
  DatasetRecord,
  JobRecord,
  TokenRecord,
  UpdateRecord,
  VersionRecord,
} from '../store.ts';
import { CONTRIBUTORS_SQL, tokenValues } from './contributors-sql.ts';
import { blobsInUse, DATASETS_SQL, datasetValues } from './datasets-sql.ts';
import { JOBS_SQL, newJobValues, updateValues, versionValues } from './jobs-sql.ts';
import { LeaseQueries } from './lease-queries.ts';
import { ReputationQueries } from './reputation-sql.ts';
import { VersionRetentionQueries } from './retention-queries.ts';
import { SecurityQueries } from './security-sql.ts';
import type { Db } from './statement.ts';
import { SweepQueries } from './sweeps-sql.ts';
import { UsageQueries } from './usage-queries.ts';

/** A new client gets a fresh id; a known one keeps its own (the upsert's conflict clause). */
const upsertValues = (j: ContributorJoin): unknown[] => [
  `c-${randomUUID().slice(0, 8)}`,
  j.clientId,
  j.backend,
  j.now,
  j.now,
];

export abstract class StoreQueries {
  // The record groups whose SQL is the same on both engines; each store adds its registry.
  readonly sweeps: SweepQueries;
  readonly security: SecurityQueries;
  readonly reputation: ReputationQueries;
  readonly usage: UsageQueries;
  readonly versionRetention: VersionRetentionQueries;
  readonly leases: LeaseQueries;

  constructor(protected readonly sql: Db) {
    this.sweeps = new SweepQueries(sql);
    this.security = new SecurityQueries(sql);
    this.reputation = new ReputationQueries(sql);
    this.usage = new UsageQueries(sql);
    this.versionRetention = new VersionRetentionQueries(sql);
    this.leases = new LeaseQueries(sql);
  }

  async createJob(job: JobRecord, initial: VersionRecord): Promise<void> {
    await this.sql.batch([
      [JOBS_SQL.insertJob, newJobValues(job, initial)],
      [JOBS_SQL.insertVersion, versionValues(initial)],
    ]);
  }

  async getJob(id: string): Promise<JobRecord | null> {
    const row = await this.sql.one(JOBS_SQL.getJob, [id]);
    return row ? toJob(row) : null;
  }

  async listJobs(): Promise<JobRecord[]> {
    return (await this.sql.all(JOBS_SQL.listJobs)).map(toJob);
  }

  async setJobStatus(id: string, status: JobStatus): Promise<void> {
    await this.sql.run(JOBS_SQL.setJobStatus, [status, id]);
  }

  async setJobSpec(id: string, spec: JobSpec): Promise<boolean> {
    return (await this.sql.run(JOBS_SQL.setJobSpec, [JSON.stringify(spec), id])) === 1;
  }

  async getVersion(id: string): Promise<VersionRecord | null> {
    const row = await this.sql.one(JOBS_SQL.getVersion, [id]);
    return row ? toVersion(row) : null;
  }

  async setVersionMetrics(id: string, m: VersionMetrics): Promise<boolean> {
    const values = [m.testAccuracy, m.testLoss, m.testR2 ?? null, m.testMae ?? null, m.testRmse ?? null, id];
    return (await this.sql.run(JOBS_SQL.setVersionMetrics, values)) === 1;
  }

  async listVersions(jobId: string): Promise<VersionRecord[]> {
    return (await this.sql.all(JOBS_SQL.listVersions, [jobId])).map(toVersion);
  }

  async insertUpdate(u: UpdateRecord): Promise<boolean> {
    return (await this.sql.run(JOBS_SQL.insertUpdate, updateValues(u))) === 1;
  }

  async listUpdates(jobId: string, round: number): Promise<UpdateRecord[]> {
    return (await this.sql.all(JOBS_SQL.listUpdates, [jobId, round])).map(toUpdate);
  }

  async putDataset(d: DatasetRecord): Promise<void> {
    await this.sql.run(DATASETS_SQL.putDataset, datasetValues(d));
  }

  async getDataset(id: string): Promise<DatasetRecord | null> {
    const row = await this.sql.one(DATASETS_SQL.getDataset, [id]);
    return row ? toDataset(row) : null;
  }

  async listDatasets(): Promise<DatasetRecord[]> {
    return (await this.sql.all(DATASETS_SQL.listDatasets)).map(toDataset);
  }

  async listDatasetVersions(name: string): Promise<DatasetRecord[]> {
    return (await this.sql.all(DATASETS_SQL.listDatasetVersions, [name])).map(toDataset);
  }

  async deleteDataset(id: string): Promise<boolean> {
    return (await this.sql.run(DATASETS_SQL.deleteDataset, [id])) === 1;
  }

  async blobsInUse(hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const { sql, params } = blobsInUse(hashes);
    return new Set((await this.sql.all(sql, params)).map((r) => r.h as string));
  }

  async upsertContributor(clientId: string, backend: string | null, now: string): Promise<ContributorRecord> {
    const row = await this.sql.one(
      CONTRIBUTORS_SQL.upsertContributor,
      upsertValues({ clientId, backend, now }),
    );
    return toContributor(row!);
  }

  async upsertContributors(joins: ContributorJoin[]): Promise<ContributorRecord[]> {
    const steps = joins.map((j) => [CONTRIBUTORS_SQL.upsertContributor, upsertValues(j)] as const);
    return (await this.sql.batch(steps, { lazy: true })).map((rows) => toContributor(rows[0]!));
  }

  async recordContribution(contributorId: string, samples: number, now: string): Promise<void> {
    await this.sql.run(CONTRIBUTORS_SQL.recordContribution, [samples, now, contributorId]);
  }

  async listContributors(): Promise<ContributorRecord[]> {
    return (await this.sql.all(CONTRIBUTORS_SQL.listContributors)).map(toContributor);
  }

  async banContributor(b: BanRecord): Promise<void> {
    await this.sql.run(CONTRIBUTORS_SQL.banContributor, [b.contributorId, b.reason, b.bannedAt]);
  }

  async unbanContributor(contributorId: string): Promise<boolean> {
    return (await this.sql.run(CONTRIBUTORS_SQL.unbanContributor, [contributorId])) === 1;
  }

  async getBan(contributorId: string): Promise<BanRecord | null> {
    const row = await this.sql.one(CONTRIBUTORS_SQL.getBan, [contributorId]);
    return row ? toBan(row) : null;
  }

  async listBans(): Promise<BanRecord[]> {
    return (await this.sql.all(CONTRIBUTORS_SQL.listBans)).map(toBan);
  }

  async insertToken(t: TokenRecord): Promise<void> {
    await this.sql.run(CONTRIBUTORS_SQL.insertToken, tokenValues(t));
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    const row = await this.sql.one(CONTRIBUTORS_SQL.findTokenByHash, [hash]);
    return row ? toToken(row) : null;
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (await this.sql.all(CONTRIBUTORS_SQL.listTokens)).map(toToken);
  }

  async revokeToken(id: string, now: string): Promise<boolean> {
    return (await this.sql.run(CONTRIBUTORS_SQL.revokeToken, [now, id])) === 1;
  }
}
