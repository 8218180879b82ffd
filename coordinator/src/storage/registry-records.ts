/**
 * What the model registry keeps in the Store: model names (a job's versions, or an imported
 * TF.js model's), aliases that point at versions (with an optional canary split) and the
 * history of every alias move, so a rollback knows where to go back to. Job versions stay in
 * the versions table; only imported models keep their versions here.
 */

export type PromoteMetric = 'testAccuracy' | 'testLoss';

export interface AutoPromote {
  alias: string;
  metric: PromoteMetric;
}

export interface ModelRecord {
  name: string;
  /** The job whose versions this model serves; null for an imported, inference-only model. */
  jobId: string | null;
  autoPromote: AutoPromote | null;
  createdAt: string;
}

export interface ImportedVersionRecord {
  id: string;
  modelName: string;
  /** sha256 of the flat float32 weights blob. */
  hash: string;
  /** sha256 of the blob holding the TF.js layers topology JSON. */
  topologyHash: string;
  parentId: string | null;
  createdAt: string;
}

export interface Canary {
  versionId: string;
  /** Share of loads (0..1) that get the canary version instead of the alias's main one. */
  fraction: number;
}

export interface AliasRecord {
  modelName: string;
  alias: string;
  versionId: string;
  canary: Canary | null;
  updatedAt: string;
}

export interface AliasMove extends AliasRecord {
  /** 1, 2, 3... per (model, alias), in the order of the moves. */
  seq: number;
  /** Who moved it: 'admin', 'auto' (promotion by metric) or 'rollback'. */
  actor: string;
}

export interface RegistryStore {
  /** Throws when the name or the job is already registered. */
  insertModel(model: ModelRecord): Promise<void>;
  getModel(name: string): Promise<ModelRecord | null>;
  getModelByJob(jobId: string): Promise<ModelRecord | null>;
  listModels(): Promise<ModelRecord[]>;
  /** Renames a model with its aliases and their history in one transaction. */
  renameModel(from: string, to: string): Promise<void>;
  setAutoPromote(name: string, auto: AutoPromote | null): Promise<void>;

  insertImportedVersion(version: ImportedVersionRecord): Promise<void>;
  getImportedVersion(id: string): Promise<ImportedVersionRecord | null>;
  listImportedVersions(modelName: string): Promise<ImportedVersionRecord[]>;

  /** Points the alias at its new target and appends the move to its history, atomically. */
  moveAlias(alias: AliasRecord, actor: string): Promise<AliasMove>;
  getAlias(modelName: string, alias: string): Promise<AliasRecord | null>;
  listAliases(modelName: string): Promise<AliasRecord[]>;
  /** Oldest move first. */
  aliasHistory(modelName: string, alias: string): Promise<AliasMove[]>;
}
