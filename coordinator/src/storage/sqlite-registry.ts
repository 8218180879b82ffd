/**
 * The registry's tables on the embedded SQLite store (see registry-records.ts). It shares the
 * SqliteStore's connection, so its transactions are the store's transactions.
 */
import type Database from 'better-sqlite3';
import type {
  AliasMove,
  AliasRecord,
  AutoPromote,
  ImportedVersionRecord,
  ModelRecord,
  RegistryStore,
} from './registry-records.ts';
import { type Row, toAlias, toImported, toModel, toMove } from './rows.ts';

export class SqliteRegistryStore implements RegistryStore {
  constructor(private readonly db: Database.Database) {}

  async insertModel(m: ModelRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO models (name, job_id, auto_promote, created_at) VALUES (?, ?, ?, ?)')
      .run(m.name, m.jobId, m.autoPromote ? JSON.stringify(m.autoPromote) : null, m.createdAt);
  }

  async getModel(name: string): Promise<ModelRecord | null> {
    const row = this.db.prepare('SELECT * FROM models WHERE name = ?').get(name) as Row | undefined;
    return row ? toModel(row) : null;
  }

  async getModelByJob(jobId: string): Promise<ModelRecord | null> {
    const row = this.db.prepare('SELECT * FROM models WHERE job_id = ?').get(jobId) as Row | undefined;
    return row ? toModel(row) : null;
  }

  async listModels(): Promise<ModelRecord[]> {
    return (this.db.prepare('SELECT * FROM models ORDER BY created_at, name').all() as Row[]).map(toModel);
  }

  async renameModel(from: string, to: string): Promise<void> {
    this.db.transaction(() => {
      // Insert-then-delete rather than UPDATE of the key, so the unique job_id moves cleanly.
      const row = this.db.prepare('SELECT * FROM models WHERE name = ?').get(from) as Row | undefined;
      if (!row) throw new Error(`model ${from} does not exist`);
      this.db.prepare('DELETE FROM models WHERE name = ?').run(from);
      this.db
        .prepare('INSERT INTO models (name, job_id, auto_promote, created_at) VALUES (?, ?, ?, ?)')
        .run(to, row.job_id, row.auto_promote, row.created_at);
      for (const table of ['aliases', 'alias_moves', 'imported_versions'])
        this.db.prepare(`UPDATE ${table} SET model_name = ? WHERE model_name = ?`).run(to, from);
    })();
  }

  async setAutoPromote(name: string, auto: AutoPromote | null): Promise<void> {
    this.db
      .prepare('UPDATE models SET auto_promote = ? WHERE name = ?')
      .run(auto ? JSON.stringify(auto) : null, name);
  }

  async insertImportedVersion(v: ImportedVersionRecord): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO imported_versions (id, model_name, hash, topology_hash, parent_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(v.id, v.modelName, v.hash, v.topologyHash, v.parentId, v.createdAt);
  }

  async getImportedVersion(id: string): Promise<ImportedVersionRecord | null> {
    const row = this.db.prepare('SELECT * FROM imported_versions WHERE id = ?').get(id) as Row | undefined;
    return row ? toImported(row) : null;
  }

  async listImportedVersions(modelName: string): Promise<ImportedVersionRecord[]> {
    return (
      this.db
        .prepare('SELECT * FROM imported_versions WHERE model_name = ? ORDER BY created_at, id')
        .all(modelName) as Row[]
    ).map(toImported);
  }

  async moveAlias(a: AliasRecord, actor: string): Promise<AliasMove> {
    return this.db.transaction(() => {
      const last = this.db
        .prepare('SELECT MAX(seq) AS seq FROM alias_moves WHERE model_name = ? AND alias = ?')
        .get(a.modelName, a.alias) as { seq: number | null };
      const seq = (last.seq ?? 0) + 1;
      const canaryId = a.canary?.versionId ?? null;
      const fraction = a.canary?.fraction ?? null;
      this.db
        .prepare(
          `INSERT INTO aliases (model_name, alias, version_id, canary_version_id, canary_fraction, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (model_name, alias) DO UPDATE SET version_id = excluded.version_id,
             canary_version_id = excluded.canary_version_id, canary_fraction = excluded.canary_fraction,
             updated_at = excluded.updated_at`,
        )
        .run(a.modelName, a.alias, a.versionId, canaryId, fraction, a.updatedAt);
      this.db
        .prepare(
          `INSERT INTO alias_moves (model_name, alias, seq, version_id, canary_version_id, canary_fraction, actor, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(a.modelName, a.alias, seq, a.versionId, canaryId, fraction, actor, a.updatedAt);
      return { ...a, seq, actor };
    })();
  }

  async getAlias(modelName: string, alias: string): Promise<AliasRecord | null> {
    const row = this.db
      .prepare('SELECT * FROM aliases WHERE model_name = ? AND alias = ?')
      .get(modelName, alias) as Row | undefined;
    return row ? toAlias(row) : null;
  }

  async listAliases(modelName: string): Promise<AliasRecord[]> {
    return (
      this.db.prepare('SELECT * FROM aliases WHERE model_name = ? ORDER BY alias').all(modelName) as Row[]
    ).map(toAlias);
  }

  async aliasHistory(modelName: string, alias: string): Promise<AliasMove[]> {
    return (
      this.db
        .prepare('SELECT * FROM alias_moves WHERE model_name = ? AND alias = ? ORDER BY seq')
        .all(modelName, alias) as Row[]
    ).map(toMove);
  }
}
