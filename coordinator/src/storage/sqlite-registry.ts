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

type Row = Record<string, unknown>;

const toModel = (r: Row): ModelRecord => ({
  name: r.name as string,
  jobId: (r.job_id as string | null) ?? null,
  autoPromote: r.auto_promote ? (JSON.parse(r.auto_promote as string) as AutoPromote) : null,
  createdAt: r.created_at as string,
});

const toImported = (r: Row): ImportedVersionRecord => ({
  id: r.id as string,
  modelName: r.model_name as string,
  hash: r.hash as string,
  topologyHash: r.topology_hash as string,
  parentId: (r.parent_id as string | null) ?? null,
  createdAt: r.created_at as string,
});

const toAlias = (r: Row): AliasRecord => ({
  modelName: r.model_name as string,
  alias: r.alias as string,
  versionId: r.version_id as string,
  canary: r.canary_version_id
    ? { versionId: r.canary_version_id as string, fraction: r.canary_fraction as number }
    : null,
  updatedAt: r.updated_at as string,
});

const toMove = (r: Row): AliasMove => ({ ...toAlias(r), seq: r.seq as number, actor: r.actor as string });

export class SqliteRegistryStore implements RegistryStore {
  constructor(private readonly db: Database.Database) {}

  insertModel(m: ModelRecord): void {
    this.db
      .prepare('INSERT INTO models (name, job_id, auto_promote, created_at) VALUES (?, ?, ?, ?)')
      .run(m.name, m.jobId, m.autoPromote ? JSON.stringify(m.autoPromote) : null, m.createdAt);
  }

  getModel(name: string): ModelRecord | null {
    const row = this.db.prepare('SELECT * FROM models WHERE name = ?').get(name) as Row | undefined;
    return row ? toModel(row) : null;
  }

  getModelByJob(jobId: string): ModelRecord | null {
    const row = this.db.prepare('SELECT * FROM models WHERE job_id = ?').get(jobId) as Row | undefined;
    return row ? toModel(row) : null;
  }

  listModels(): ModelRecord[] {
    return (this.db.prepare('SELECT * FROM models ORDER BY created_at, name').all() as Row[]).map(toModel);
  }

  renameModel(from: string, to: string): void {
    this.db.transaction(() => {
      // Insert-then-delete rather than UPDATE of the key, so the unique job_id moves cleanly.
      const m = this.getModel(from);
      if (!m) throw new Error(`model ${from} does not exist`);
      this.db.prepare('DELETE FROM models WHERE name = ?').run(from);
      this.insertModel({ ...m, name: to });
      for (const table of ['aliases', 'alias_moves', 'imported_versions'])
        this.db.prepare(`UPDATE ${table} SET model_name = ? WHERE model_name = ?`).run(to, from);
    })();
  }

  setAutoPromote(name: string, auto: AutoPromote | null): void {
    this.db
      .prepare('UPDATE models SET auto_promote = ? WHERE name = ?')
      .run(auto ? JSON.stringify(auto) : null, name);
  }

  insertImportedVersion(v: ImportedVersionRecord): void {
    this.db
      .prepare(
        'INSERT INTO imported_versions (id, model_name, hash, topology_hash, parent_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(v.id, v.modelName, v.hash, v.topologyHash, v.parentId, v.createdAt);
  }

  getImportedVersion(id: string): ImportedVersionRecord | null {
    const row = this.db.prepare('SELECT * FROM imported_versions WHERE id = ?').get(id) as Row | undefined;
    return row ? toImported(row) : null;
  }

  listImportedVersions(modelName: string): ImportedVersionRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM imported_versions WHERE model_name = ? ORDER BY created_at, id')
        .all(modelName) as Row[]
    ).map(toImported);
  }

  moveAlias(a: AliasRecord, actor: string): AliasMove {
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

  getAlias(modelName: string, alias: string): AliasRecord | null {
    const row = this.db
      .prepare('SELECT * FROM aliases WHERE model_name = ? AND alias = ?')
      .get(modelName, alias) as Row | undefined;
    return row ? toAlias(row) : null;
  }

  listAliases(modelName: string): AliasRecord[] {
    return (
      this.db.prepare('SELECT * FROM aliases WHERE model_name = ? ORDER BY alias').all(modelName) as Row[]
    ).map(toAlias);
  }

  aliasHistory(modelName: string, alias: string): AliasMove[] {
    return (
      this.db
        .prepare('SELECT * FROM alias_moves WHERE model_name = ? AND alias = ? ORDER BY seq')
        .all(modelName, alias) as Row[]
    ).map(toMove);
  }
}
