/** Jobs, their versions and the updates of their rounds: the statements both stores run. */

import type { Row } from '../rows.ts';
import { type JobRecord, StaleRoundError, type UpdateRecord, type VersionRecord } from '../store.ts';
import { lockedRead } from './statement.ts';

export const JOBS_SQL = {
  insertJob:
    'INSERT INTO jobs (id, name, spec, status, round, version_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  getJob: 'SELECT * FROM jobs WHERE id = ?',
  listJobs: 'SELECT * FROM jobs ORDER BY created_at, id',
  setJobStatus: 'UPDATE jobs SET status = ? WHERE id = ?',
  setJobSpec: 'UPDATE jobs SET spec = ? WHERE id = ?',
  /**
   * commitVersion's check. On PostgreSQL the row lock orders commits of one job; the round check
   * refuses a commit from a process that lost the job's ownership while it aggregated.
   */
  jobRound: lockedRead('SELECT round FROM jobs WHERE id = ?'),
  advanceJob: 'UPDATE jobs SET round = ?, version_id = ?, status = ? WHERE id = ?',
  insertVersion: `INSERT INTO versions (id, job_id, round, hash, parent_id, num_samples, unit_ids, test_accuracy, test_loss, created_at, state_hash, test_r2, test_mae, test_rmse)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  getVersion: 'SELECT * FROM versions WHERE id = ?',
  /** A version's evaluation lands after its commit (versions.ts evaluates off the round's path). */
  setVersionMetrics:
    'UPDATE versions SET test_accuracy = ?, test_loss = ?, test_r2 = ?, test_mae = ?, test_rmse = ? WHERE id = ?',
  listVersions: 'SELECT * FROM versions WHERE job_id = ? ORDER BY round',
  /** Changes no row when the unit's update for the round was already accepted. */
  insertUpdate: `INSERT INTO updates (id, job_id, round, unit_id, contributor_id, base_version_id, num_samples, loss, blob_hash, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, round, unit_id) DO NOTHING`,
  listUpdates: 'SELECT * FROM updates WHERE job_id = ? AND round = ? ORDER BY created_at, id',
} as const;

/** A new job's row: round 1, on its initial version. */
export const newJobValues = (job: JobRecord, initial: VersionRecord): unknown[] => [
  job.id,
  job.name,
  JSON.stringify(job.spec),
  job.status,
  1,
  initial.id,
  job.createdAt,
];

export const versionValues = (v: VersionRecord): unknown[] => [
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
];

export const updateValues = (u: UpdateRecord): unknown[] => [
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
];

/** commitVersion's refusal unless the job (its `jobRound` row) is still at the version's round. */
export function assertRound(version: VersionRecord, row: Row | null): void {
  const round = row?.round as number | undefined;
  if (round !== version.round) throw new StaleRoundError(version.jobId, version.round, round);
}
