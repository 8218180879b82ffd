/**
 * Row mappers shared by the SQLite and PostgreSQL stores: both keep the same schema
 * (migrations.ts), so a row reads the same way from either.
 */

import type { JobStatus } from '@gridtab/shared';
import { upgradeDatasetRecord } from '../datasets/data-spec.ts';
import type {
  AliasMove,
  AliasRecord,
  AutoPromote,
  ImportedVersionRecord,
  ModelRecord,
} from './registry-records.ts';
import type { ReputationRecord, SpotCheckRecord } from './reputation-records.ts';
import type { AuditRecord } from './security-records.ts';
import type {
  BanRecord,
  ContributorRecord,
  DatasetRecord,
  JobRecord,
  TokenRecord,
  UpdateRecord,
  VersionRecord,
} from './store.ts';

export type Row = Record<string, unknown>;

export const toJob = (r: Row): JobRecord => ({
  id: r.id as string,
  name: r.name as string,
  // Jobs stored before aggregation rules existed have none: the schema's default, applied once
  // here at the read boundary so no reader needs its own fallback.
  spec: { aggregation: { rule: 'mean' }, ...JSON.parse(r.spec as string) },
  status: r.status as JobStatus,
  round: r.round as number,
  versionId: (r.version_id as string | null) ?? null,
  createdAt: r.created_at as string,
});

export const toVersion = (r: Row): VersionRecord => ({
  id: r.id as string,
  jobId: r.job_id as string,
  round: r.round as number,
  hash: r.hash as string,
  parentId: (r.parent_id as string | null) ?? null,
  numSamples: r.num_samples as number,
  unitIds: JSON.parse(r.unit_ids as string),
  metrics: {
    testAccuracy: (r.test_accuracy as number | null) ?? null,
    testLoss: (r.test_loss as number | null) ?? null,
    // Regression metrics only where the version has them, so classification reads as before.
    ...(r.test_r2 != null && {
      testR2: r.test_r2 as number,
      testMae: (r.test_mae as number | null) ?? null,
      testRmse: (r.test_rmse as number | null) ?? null,
    }),
  },
  createdAt: r.created_at as string,
  stateHash: (r.state_hash as string | null) ?? null,
  ...(r.weights_state != null && { pruned: true }),
});

export const toUpdate = (r: Row): UpdateRecord => ({
  id: r.id as string,
  jobId: r.job_id as string,
  round: r.round as number,
  unitId: r.unit_id as string,
  contributorId: r.contributor_id as string,
  baseVersionId: r.base_version_id as string,
  numSamples: r.num_samples as number,
  loss: r.loss as number,
  blobHash: r.blob_hash as string,
  createdAt: r.created_at as string,
});

export const toContributor = (r: Row): ContributorRecord => ({
  id: r.id as string,
  clientId: r.client_id as string,
  backend: (r.backend as string | null) ?? null,
  unitsDone: r.units_done as number,
  samplesDone: r.samples_done as number,
  firstSeen: r.first_seen as string,
  lastSeen: r.last_seen as string,
});

export const toToken = (r: Row): TokenRecord => ({
  id: r.id as string,
  role: r.role as TokenRecord['role'],
  label: r.label as string,
  hash: r.hash as string,
  createdAt: r.created_at as string,
  revokedAt: (r.revoked_at as string | null) ?? null,
});

export const toDataset = (r: Row): DatasetRecord => {
  const record = upgradeDatasetRecord({
    id: r.id as string,
    name: r.name as string,
    createdAt: r.created_at as string,
    ...JSON.parse(r.meta as string),
  });
  // The columns (migration 8) are the truth for number and hash; meta may predate them.
  if (typeof r.version === 'number') record.version = r.version;
  if (typeof r.hash === 'string') record.hash = r.hash;
  return record;
};

export const toModel = (r: Row): ModelRecord => ({
  name: r.name as string,
  jobId: (r.job_id as string | null) ?? null,
  autoPromote: r.auto_promote ? (JSON.parse(r.auto_promote as string) as AutoPromote) : null,
  createdAt: r.created_at as string,
});

export const toImported = (r: Row): ImportedVersionRecord => ({
  id: r.id as string,
  modelName: r.model_name as string,
  hash: r.hash as string,
  topologyHash: r.topology_hash as string,
  parentId: (r.parent_id as string | null) ?? null,
  createdAt: r.created_at as string,
});

export const toAlias = (r: Row): AliasRecord => ({
  modelName: r.model_name as string,
  alias: r.alias as string,
  versionId: r.version_id as string,
  canary: r.canary_version_id
    ? { versionId: r.canary_version_id as string, fraction: r.canary_fraction as number }
    : null,
  updatedAt: r.updated_at as string,
});

export const toMove = (r: Row): AliasMove => ({
  ...toAlias(r),
  seq: r.seq as number,
  actor: r.actor as string,
});

export const toBan = (r: Row): BanRecord => ({
  contributorId: r.contributor_id as string,
  reason: r.reason as string,
  bannedAt: r.banned_at as string,
});

export const toCheck = (r: Row): SpotCheckRecord => ({
  updateId: r.update_id as string,
  jobId: r.job_id as string,
  round: r.round as number,
  unitId: r.unit_id as string,
  contributorId: r.contributor_id as string,
  backend: (r.backend as string | null) ?? null,
  passed: r.passed === 1,
  distance: r.distance as number,
  replicaHash: r.replica_hash as string,
  createdAt: r.created_at as string,
});

export const toReputation = (r: Row): ReputationRecord => ({
  contributorId: r.contributor_id as string,
  checksPassed: r.checks_passed as number,
  checksFailed: r.checks_failed as number,
  quarantined: r.quarantined === 1,
  updatedAt: r.updated_at as string,
});

export const toAudit = (r: Row): AuditRecord => ({
  // PostgreSQL's seq is a BIGINT, read as a string; Number() reads both drivers' values.
  seq: Number(r.seq),
  at: r.at as string,
  actor: r.actor as string,
  action: r.action as string,
  target: r.target as string,
  address: r.address as string,
  detail: (r.detail as string | null) ?? null,
});
