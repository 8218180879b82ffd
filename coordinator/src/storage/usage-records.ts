/**
 * What usage accounting keeps in the Store: additive counters per UTC day, job and contributor
 * (migration 10). One SQL text serves SQLite and PostgreSQL: statements are written with `?`
 * placeholders and numbered for PostgreSQL by `numbered` (sql/statement.ts). `add` sums into existing rows, so a
 * batch flushed twice would count twice: the meter hands each delta to exactly one flush.
 */
import type { Row } from './rows.ts';

/** The counters of one (day, job, contributor) row; every field adds up. */
export interface UsageCounters {
  /** Device milliseconds of training on GPU backends (webgpu, webgl). */
  gpuMs: number;
  /** Device milliseconds of training on CPU backends (wasm, cpu). */
  cpuDeviceMs: number;
  samples: number;
  units: number;
  /** Shards and weights the coordinator served for the job. */
  bytesDown: number;
  /** Update payloads the coordinator received (as sent, before decoding). */
  bytesUp: number;
  /** Coordinator CPU milliseconds spent validating and aggregating the job's updates. */
  coordinatorCpuMs: number;
}

export interface UsageRow extends UsageCounters {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  jobId: string;
  /** '' when the counter belongs to no contributor (aggregation, weights fetched by job). */
  contributorId: string;
}

export interface UsageQuery {
  /** Inclusive UTC days, YYYY-MM-DD. */
  from?: string;
  to?: string;
  jobId?: string;
}

export interface UsageStore {
  /** Adds each row's counters to the stored row of its key (inserted if new), in one transaction. */
  add(rows: UsageRow[]): Promise<void>;
  list(query: UsageQuery): Promise<UsageRow[]>;

  /** Blob hashes of the job's updates whose blobs are still held (not released). */
  heldUpdateBlobs(jobId: string): Promise<string[]>;
  /**
   * Retention's mark: the job's updates of rounds up to `throughRound` no longer need their blob
   * (the rows stay, for lineage). Returns how many rows were marked.
   */
  releaseUpdateBlobs(jobId: string, throughRound: number): Promise<number>;
  /** Released blob hashes not yet collected. */
  releasedBlobs(limit: number): Promise<string[]>;
  /** Whether any live row (held update, version, imported version, spot-check, dataset) names the blob; a pruned version is not live. */
  blobReferenced(hash: string): Promise<boolean>;
  /** The sweep's last step: the released rows of this hash are now collected. */
  markCollected(hash: string): Promise<void>;
}

export const HELD_BLOBS_SQL =
  'SELECT DISTINCT blob_hash FROM updates WHERE job_id = ? AND blob_state IS NULL ORDER BY blob_hash';
export const RELEASE_SQL =
  "UPDATE updates SET blob_state = 'released' WHERE job_id = ? AND round <= ? AND blob_state IS NULL";
export const RELEASED_SQL =
  "SELECT DISTINCT blob_hash FROM updates WHERE blob_state = 'released' ORDER BY blob_hash LIMIT ?";
export const COLLECTED_SQL =
  "UPDATE updates SET blob_state = 'collected' WHERE blob_hash = ? AND blob_state = 'released'";
/**
 * Every column that may name a blob. Datasets keep their shard hashes inside the meta JSON, so a
 * substring match finds them (a 64-hex hash does not occur by chance). A table added later that
 * names blobs must be added here, or collection could take its blobs.
 */
export const REFERENCED_SQL = `SELECT 1 AS hit WHERE
  EXISTS (SELECT 1 FROM updates WHERE blob_hash = ? AND blob_state IS NULL)
  OR EXISTS (SELECT 1 FROM versions WHERE (hash = ? OR state_hash = ?) AND weights_state IS NULL)
  OR EXISTS (SELECT 1 FROM imported_versions WHERE hash = ? OR topology_hash = ?)
  OR EXISTS (SELECT 1 FROM spot_checks WHERE replica_hash = ?)
  OR EXISTS (SELECT 1 FROM datasets WHERE meta LIKE ?)`;
export const referencedParams = (hash: string): unknown[] => [
  hash,
  hash,
  hash,
  hash,
  hash,
  hash,
  `%${hash}%`,
];

export const COUNTERS: (keyof UsageCounters)[] = [
  'gpuMs',
  'cpuDeviceMs',
  'samples',
  'units',
  'bytesDown',
  'bytesUp',
  'coordinatorCpuMs',
];

export const zeroCounters = (): UsageCounters => ({
  gpuMs: 0,
  cpuDeviceMs: 0,
  samples: 0,
  units: 0,
  bytesDown: 0,
  bytesUp: 0,
  coordinatorCpuMs: 0,
});

const COLUMNS: Record<keyof UsageCounters, string> = {
  gpuMs: 'gpu_ms',
  cpuDeviceMs: 'cpu_device_ms',
  samples: 'samples',
  units: 'units',
  bytesDown: 'bytes_down',
  bytesUp: 'bytes_up',
  coordinatorCpuMs: 'coordinator_cpu_ms',
};
const cols = COUNTERS.map((k) => COLUMNS[k]);

export const ADD_USAGE_SQL = `INSERT INTO usage (day, job_id, contributor_id, ${cols.join(', ')})
  VALUES (?, ?, ?, ${cols.map(() => '?').join(', ')})
  ON CONFLICT (day, job_id, contributor_id) DO UPDATE SET
  ${cols.map((c) => `${c} = usage.${c} + excluded.${c}`).join(', ')}`;

export const addUsageParams = (r: UsageRow): unknown[] => [
  r.day,
  r.jobId,
  r.contributorId,
  ...COUNTERS.map((k) => r[k]),
];

/** The list query and its parameters for `q` (filters present only when asked for). */
export function listUsageSql(q: UsageQuery): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.from) where.push('day >= ?') && params.push(q.from);
  if (q.to) where.push('day <= ?') && params.push(q.to);
  if (q.jobId) where.push('job_id = ?') && params.push(q.jobId);
  const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT * FROM usage${clause} ORDER BY day, job_id, contributor_id`, params };
}

// PostgreSQL returns BIGINT as a string; Number() reads both drivers' values.
export const toUsage = (r: Row): UsageRow => ({
  day: r.day as string,
  jobId: r.job_id as string,
  contributorId: r.contributor_id as string,
  ...(Object.fromEntries(COUNTERS.map((k) => [k, Number(r[COLUMNS[k]])])) as unknown as UsageCounters),
});
