/**
 * The model registry's tables (registry-records.ts): the statements both stores run, and the
 * registry methods that run one statement. The stores add the two transactions (rename, move).
 */
import type {
  AliasMove,
  AliasRecord,
  AutoPromote,
  ImportedVersionRecord,
  ModelRecord,
  RegistryStore,
} from '../registry-records.ts';
import { toAlias, toImported, toModel, toMove } from '../rows.ts';
import { lockedRead, type Sql } from './statement.ts';

export const REGISTRY_SQL = {
  insertModel: 'INSERT INTO models (name, job_id, auto_promote, created_at) VALUES (?, ?, ?, ?)',
  getModel: 'SELECT * FROM models WHERE name = ?',
  /** renameModel's read of the model it moves. */
  getModelForRename: lockedRead('SELECT * FROM models WHERE name = ?'),
  getModelByJob: 'SELECT * FROM models WHERE job_id = ?',
  listModels: 'SELECT * FROM models ORDER BY created_at, name',
  deleteModel: 'DELETE FROM models WHERE name = ?',
  /** The tables that name a model, renamed with it. */
  renameIn: ['aliases', 'alias_moves', 'imported_versions'].map(
    (table) => `UPDATE ${table} SET model_name = ? WHERE model_name = ?`,
  ),
  setAutoPromote: 'UPDATE models SET auto_promote = ? WHERE name = ?',
  insertImportedVersion:
    'INSERT INTO imported_versions (id, model_name, hash, topology_hash, parent_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  getImportedVersion: 'SELECT * FROM imported_versions WHERE id = ?',
  listImportedVersions: 'SELECT * FROM imported_versions WHERE model_name = ? ORDER BY created_at, id',
  lastMove: 'SELECT MAX(seq) AS seq FROM alias_moves WHERE model_name = ? AND alias = ?',
  putAlias: `INSERT INTO aliases (model_name, alias, version_id, canary_version_id, canary_fraction, updated_at)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (model_name, alias) DO UPDATE SET version_id = excluded.version_id,
      canary_version_id = excluded.canary_version_id, canary_fraction = excluded.canary_fraction,
      updated_at = excluded.updated_at`,
  insertMove: `INSERT INTO alias_moves (model_name, alias, seq, version_id, canary_version_id, canary_fraction, actor, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  getAlias: 'SELECT * FROM aliases WHERE model_name = ? AND alias = ?',
  listAliases: 'SELECT * FROM aliases WHERE model_name = ? ORDER BY alias',
  aliasHistory: 'SELECT * FROM alias_moves WHERE model_name = ? AND alias = ? ORDER BY seq',
} as const;

/**
 * The writes of an alias move numbered `seq` (after `lastMove`): the alias itself and its
 * history row, each as [statement, params].
 */
export function aliasMoveWrites(a: AliasRecord, seq: number, actor: string): [string, unknown[]][] {
  const canaryId = a.canary?.versionId ?? null;
  const fraction = a.canary?.fraction ?? null;
  return [
    [REGISTRY_SQL.putAlias, [a.modelName, a.alias, a.versionId, canaryId, fraction, a.updatedAt]],
    [
      REGISTRY_SQL.insertMove,
      [a.modelName, a.alias, seq, a.versionId, canaryId, fraction, actor, a.updatedAt],
    ],
  ];
}

/**
 * The writes of a rename of `row` (the model's stored row) from `from` to `to`. Delete-then-insert
 * rather than UPDATE of the key, so the unique job_id moves cleanly.
 */
export function renameWrites(row: Record<string, unknown>, from: string, to: string): [string, unknown[]][] {
  return [
    [REGISTRY_SQL.deleteModel, [from]],
    [REGISTRY_SQL.insertModel, [to, row.job_id, row.auto_promote, row.created_at]],
    ...REGISTRY_SQL.renameIn.map((sql): [string, unknown[]] => [sql, [to, from]]),
  ];
}

export abstract class RegistryQueries implements Omit<RegistryStore, 'renameModel' | 'moveAlias'> {
  constructor(protected readonly sql: Sql) {}

  async insertModel(m: ModelRecord): Promise<void> {
    const auto = m.autoPromote ? JSON.stringify(m.autoPromote) : null;
    await this.sql.run(REGISTRY_SQL.insertModel, [m.name, m.jobId, auto, m.createdAt]);
  }

  async getModel(name: string): Promise<ModelRecord | null> {
    const row = await this.sql.one(REGISTRY_SQL.getModel, [name]);
    return row ? toModel(row) : null;
  }

  async getModelByJob(jobId: string): Promise<ModelRecord | null> {
    const row = await this.sql.one(REGISTRY_SQL.getModelByJob, [jobId]);
    return row ? toModel(row) : null;
  }

  async listModels(): Promise<ModelRecord[]> {
    return (await this.sql.all(REGISTRY_SQL.listModels)).map(toModel);
  }

  async setAutoPromote(name: string, auto: AutoPromote | null): Promise<void> {
    await this.sql.run(REGISTRY_SQL.setAutoPromote, [auto ? JSON.stringify(auto) : null, name]);
  }

  async insertImportedVersion(v: ImportedVersionRecord): Promise<void> {
    await this.sql.run(REGISTRY_SQL.insertImportedVersion, [
      v.id,
      v.modelName,
      v.hash,
      v.topologyHash,
      v.parentId,
      v.createdAt,
    ]);
  }

  async getImportedVersion(id: string): Promise<ImportedVersionRecord | null> {
    const row = await this.sql.one(REGISTRY_SQL.getImportedVersion, [id]);
    return row ? toImported(row) : null;
  }

  async listImportedVersions(modelName: string): Promise<ImportedVersionRecord[]> {
    return (await this.sql.all(REGISTRY_SQL.listImportedVersions, [modelName])).map(toImported);
  }

  async getAlias(modelName: string, alias: string): Promise<AliasRecord | null> {
    const row = await this.sql.one(REGISTRY_SQL.getAlias, [modelName, alias]);
    return row ? toAlias(row) : null;
  }

  async listAliases(modelName: string): Promise<AliasRecord[]> {
    return (await this.sql.all(REGISTRY_SQL.listAliases, [modelName])).map(toAlias);
  }

  async aliasHistory(modelName: string, alias: string): Promise<AliasMove[]> {
    return (await this.sql.all(REGISTRY_SQL.aliasHistory, [modelName, alias])).map(toMove);
  }
}
