/** The registry's tables on PostgreSQL (see registry-records.ts and sqlite-registry.ts). */
import type pg from 'pg';
import type {
  AliasMove,
  AliasRecord,
  AutoPromote,
  ImportedVersionRecord,
  ModelRecord,
  RegistryStore,
} from '../registry-records.ts';
import { type Row, toAlias, toImported, toModel, toMove } from '../rows.ts';
import { transaction } from './pg-tx.ts';

export class PgRegistryStore implements RegistryStore {
  constructor(private readonly pool: pg.Pool) {}

  private async one(sql: string, params: unknown[]): Promise<Row | null> {
    return ((await this.pool.query(sql, params)).rows[0] as Row | undefined) ?? null;
  }

  private async all(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.pool.query(sql, params)).rows as Row[];
  }

  async insertModel(m: ModelRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO models (name, job_id, auto_promote, created_at) VALUES ($1, $2, $3, $4)',
      [m.name, m.jobId, m.autoPromote ? JSON.stringify(m.autoPromote) : null, m.createdAt],
    );
  }

  async getModel(name: string): Promise<ModelRecord | null> {
    const row = await this.one('SELECT * FROM models WHERE name = $1', [name]);
    return row ? toModel(row) : null;
  }

  async getModelByJob(jobId: string): Promise<ModelRecord | null> {
    const row = await this.one('SELECT * FROM models WHERE job_id = $1', [jobId]);
    return row ? toModel(row) : null;
  }

  async listModels(): Promise<ModelRecord[]> {
    return (await this.all('SELECT * FROM models ORDER BY created_at, name', [])).map(toModel);
  }

  async renameModel(from: string, to: string): Promise<void> {
    await transaction(this.pool, async (client) => {
      // Delete-then-insert rather than UPDATE of the key, so the unique job_id moves cleanly.
      const row = (await client.query('SELECT * FROM models WHERE name = $1 FOR UPDATE', [from])).rows[0];
      if (!row) throw new Error(`model ${from} does not exist`);
      await client.query('DELETE FROM models WHERE name = $1', [from]);
      await client.query(
        'INSERT INTO models (name, job_id, auto_promote, created_at) VALUES ($1, $2, $3, $4)',
        [to, row.job_id, row.auto_promote, row.created_at],
      );
      for (const table of ['aliases', 'alias_moves', 'imported_versions'])
        await client.query(`UPDATE ${table} SET model_name = $1 WHERE model_name = $2`, [to, from]);
    });
  }

  async setAutoPromote(name: string, auto: AutoPromote | null): Promise<void> {
    await this.pool.query('UPDATE models SET auto_promote = $1 WHERE name = $2', [
      auto ? JSON.stringify(auto) : null,
      name,
    ]);
  }

  async insertImportedVersion(v: ImportedVersionRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO imported_versions (id, model_name, hash, topology_hash, parent_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [v.id, v.modelName, v.hash, v.topologyHash, v.parentId, v.createdAt],
    );
  }

  async getImportedVersion(id: string): Promise<ImportedVersionRecord | null> {
    const row = await this.one('SELECT * FROM imported_versions WHERE id = $1', [id]);
    return row ? toImported(row) : null;
  }

  async listImportedVersions(modelName: string): Promise<ImportedVersionRecord[]> {
    return (
      await this.all('SELECT * FROM imported_versions WHERE model_name = $1 ORDER BY created_at, id', [
        modelName,
      ])
    ).map(toImported);
  }

  async moveAlias(a: AliasRecord, actor: string): Promise<AliasMove> {
    return transaction(this.pool, async (client) => {
      // Two processes moving the same alias at once would read the same last seq: the lock
      // (per model and alias, released at commit) makes them take turns.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`alias:${a.modelName}/${a.alias}`]);
      const last = (
        await client.query('SELECT MAX(seq) AS seq FROM alias_moves WHERE model_name = $1 AND alias = $2', [
          a.modelName,
          a.alias,
        ])
      ).rows[0] as { seq: number | null };
      const seq = (last.seq ?? 0) + 1;
      const canaryId = a.canary?.versionId ?? null;
      const fraction = a.canary?.fraction ?? null;
      await client.query(
        `INSERT INTO aliases (model_name, alias, version_id, canary_version_id, canary_fraction, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (model_name, alias) DO UPDATE SET version_id = excluded.version_id,
           canary_version_id = excluded.canary_version_id, canary_fraction = excluded.canary_fraction,
           updated_at = excluded.updated_at`,
        [a.modelName, a.alias, a.versionId, canaryId, fraction, a.updatedAt],
      );
      await client.query(
        `INSERT INTO alias_moves (model_name, alias, seq, version_id, canary_version_id, canary_fraction, actor, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [a.modelName, a.alias, seq, a.versionId, canaryId, fraction, actor, a.updatedAt],
      );
      return { ...a, seq, actor };
    });
  }

  async getAlias(modelName: string, alias: string): Promise<AliasRecord | null> {
    const row = await this.one('SELECT * FROM aliases WHERE model_name = $1 AND alias = $2', [
      modelName,
      alias,
    ]);
    return row ? toAlias(row) : null;
  }

  async listAliases(modelName: string): Promise<AliasRecord[]> {
    return (await this.all('SELECT * FROM aliases WHERE model_name = $1 ORDER BY alias', [modelName])).map(
      toAlias,
    );
  }

  async aliasHistory(modelName: string, alias: string): Promise<AliasMove[]> {
    return (
      await this.all('SELECT * FROM alias_moves WHERE model_name = $1 AND alias = $2 ORDER BY seq', [
        modelName,
        alias,
      ])
    ).map(toMove);
  }
}
