/**
 * The Store interface: everything the coordinator must not forget. The embedded SQLite store
 * implements it now; a PostgreSQL store will implement the same interface and run the same
 * shared test suite (store.case.ts). Every method returns a Promise because a networked store
 * cannot answer synchronously; the SQLite store resolves at once.
 */
import type {
  DatasetSchema,
  DatasetSource,
  DatasetSplits,
  DatasetStats,
  JobSpec,
  JobStatus,
  Normalization,
  VersionMetrics,
} from '@gridtab/shared';
import type { LeaseStore } from './lease-records.ts';
import type { RegistryStore } from './registry-records.ts';
import type { ReputationStore } from './reputation-records.ts';
import type { SecurityStore } from './security-records.ts';
import type { SweepStore } from './sweep-records.ts';
import type { UsageStore } from './usage-records.ts';
import type { VersionRetentionStore } from './version-retention-records.ts';

export interface JobRecord {
  id: string;
  name: string;
  spec: JobSpec;
  status: JobStatus;
  round: number;
  versionId: string | null;
  createdAt: string;
}

export interface VersionRecord {
  id: string;
  jobId: string;
  round: number;
  hash: string;
  parentId: string | null;
  numSamples: number;
  unitIds: string[];
  metrics: VersionMetrics;
  createdAt: string;
  /**
   * Blob hash of the strategy's state after this version (DiLoCo's outer momentum), so a
   * restarted coordinator continues exactly; null or absent when the strategy keeps none.
   */
  stateHash?: string | null;
  /**
   * True once retention pruned the version (usage/version-retention.ts): the row stays as a
   * lineage record, its weights and state are (or are about to be) deleted. Absent when held.
   */
  pruned?: boolean;
}

export interface UpdateRecord {
  id: string;
  jobId: string;
  round: number;
  unitId: string;
  contributorId: string;
  baseVersionId: string;
  numSamples: number;
  loss: number;
  blobHash: string;
  createdAt: string;
}

/**
 * One immutable dataset version (`id` is `name@version`). Its training rows are in
 * `shardHashes` (content-addressed blobs, shared with other versions holding the same rows),
 * its test rows in `testHashes`. Schema, statistics, splits and normalization are kept as
 * recorded at import: lineage reads these, never the dataset as it looks today.
 */
export interface DatasetRecord {
  id: string;
  name: string;
  version: number;
  /** sha256 over the version's content (schema, normalization, splits, shard hashes). */
  hash: string;
  schema: DatasetSchema;
  stats: DatasetStats;
  splits: DatasetSplits;
  normalization: Normalization;
  source: DatasetSource | null;
  /** `name@version` this version re-imported, or null. */
  parent: string | null;
  numTrain: number;
  numTest: number;
  /** Rows per training shard (the last one may hold fewer); units take ceil(samples / shardSize) shards. */
  shardSize: number;
  shardHashes: string[];
  testHashes: string[];
  /** Bytes of all its shards (train and test). */
  bytes: number;
  createdAt: string;
}

export interface ContributorRecord {
  id: string;
  clientId: string;
  backend: string | null;
  unitsDone: number;
  samplesDone: number;
  firstSeen: string;
  lastSeen: string;
}

/** One contributor:join to record: its client id, the backend it chose, when. */
export interface ContributorJoin {
  clientId: string;
  backend: string | null;
  now: string;
}

/** An API token created through the API; only the sha256 digest of its secret is kept. */
export interface TokenRecord {
  id: string;
  role: 'admin' | 'viewer';
  label: string;
  /** Hex sha256 of the token. */
  hash: string;
  createdAt: string;
  revokedAt: string | null;
}

/** A contributor an admin banned: refused at join until unbanned. */
export interface BanRecord {
  contributorId: string;
  reason: string;
  bannedAt: string;
}

/**
 * commitVersion's refusal when the job is no longer at the version's round: another coordinator
 * took the job over and moved it on while this one aggregated.
 */
export class StaleRoundError extends Error {
  constructor(jobId: string, round: number, current: number | undefined) {
    super(`job ${jobId} is at round ${current ?? '(none)'}, not ${round}: the commit is stale`);
    this.name = 'StaleRoundError';
  }
}

export interface Store {
  /** Records a job with its first version (round 0, the initial weights) in one transaction. */
  createJob(job: JobRecord, initial: VersionRecord): Promise<void>;
  getJob(id: string): Promise<JobRecord | null>;
  listJobs(): Promise<JobRecord[]>;
  setJobStatus(id: string, status: JobStatus): Promise<void>;
  /** Replaces a job's spec (its budget changed); false when no such job. */
  setJobSpec(id: string, spec: JobSpec): Promise<boolean>;
  /**
   * Atomically records a version and moves its job to the next round on it. Throws
   * StaleRoundError when the job is not at the version's round.
   */
  commitVersion(version: VersionRecord, nextRound: number, status: JobStatus): Promise<void>;
  getVersion(id: string): Promise<VersionRecord | null>;
  listVersions(jobId: string): Promise<VersionRecord[]>;
  /** Fills in a version's test metrics once evaluated (after its commit); false: no such version. */
  setVersionMetrics(id: string, metrics: VersionMetrics): Promise<boolean>;

  /** Returns false when an update for this unit and round was already accepted. */
  insertUpdate(update: UpdateRecord): Promise<boolean>;
  listUpdates(jobId: string, round: number): Promise<UpdateRecord[]>;

  putDataset(dataset: DatasetRecord): Promise<void>;
  getDataset(id: string): Promise<DatasetRecord | null>;
  listDatasets(): Promise<DatasetRecord[]>;
  /** One dataset's versions, oldest first. */
  listDatasetVersions(name: string): Promise<DatasetRecord[]>;
  /** Removes one version's record (its blobs are the caller's to collect); false when absent. */
  deleteDataset(id: string): Promise<boolean>;
  /**
   * Which of `hashes` a model version (weights, strategy state), an update or an imported
   * model names: blobs a dataset garbage collection must keep.
   */
  blobsInUse(hashes: string[]): Promise<Set<string>>;

  upsertContributor(clientId: string, backend: string | null, now: string): Promise<ContributorRecord>;
  /**
   * Many joins' rows upserted in one transaction that does not wait for the disk (a lazy batch,
   * sql/statement.ts): what realtime/join-writes.ts flushes. One record per join, in order.
   */
  upsertContributors(joins: ContributorJoin[]): Promise<ContributorRecord[]>;
  recordContribution(contributorId: string, samples: number, now: string): Promise<void>;
  listContributors(): Promise<ContributorRecord[]>;

  /** Bans (or re-bans with a new reason) a contributor. */
  banContributor(ban: BanRecord): Promise<void>;
  /** False when the contributor was not banned. */
  unbanContributor(contributorId: string): Promise<boolean>;
  getBan(contributorId: string): Promise<BanRecord | null>;
  listBans(): Promise<BanRecord[]>;

  insertToken(token: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  listTokens(): Promise<TokenRecord[]>;
  /** Marks a token revoked; false when no unrevoked token has this id. */
  revokeToken(id: string, now: string): Promise<boolean>;

  /** The model registry's records (registry-records.ts). */
  readonly registry: RegistryStore;
  /** Spot-checks and reputation (reputation-records.ts). */
  readonly reputation: ReputationStore;

  /** Hyperparameter sweeps and their trials (sweep-records.ts). */
  readonly sweeps: SweepStore;
  /** Audit log, contributor pages and cleanup (security-records.ts). */
  readonly security: SecurityStore;

  /** Usage counters per day, job and contributor (usage-records.ts). */
  readonly usage: UsageStore;
  /** Version pruning's marks (version-retention-records.ts). */
  readonly versionRetention: VersionRetentionStore;
  /** Leases that may still deliver, for a job's next owner (lease-records.ts). */
  readonly leases: LeaseStore;

  close(): Promise<void>;
}
