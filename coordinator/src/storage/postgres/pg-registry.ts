/**
 * The registry's tables on PostgreSQL (see registry-records.ts): the statements and the
 * single-statement methods are SQLite's too (../sql/registry-sql.ts); the transactions add
 * PostgreSQL's locks, since several processes may write at once.
 */
import type { AliasMove, AliasRecord, RegistryStore } from '../registry-records.ts';
import { aliasMoveWrites, REGISTRY_SQL, RegistryQueries, renameWrites } from '../sql/registry-sql.ts';
import type { PgDb } from './pg-db.ts';

export class PgRegistryStore extends RegistryQueries implements RegistryStore {
  constructor(private readonly db: PgDb) {
    super(db);
  }

  async renameModel(from: string, to: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const row = await tx.one(REGISTRY_SQL.getModelForRename, [from]);
      if (!row) throw new Error(`model ${from} does not exist`);
      for (const [sql, params] of renameWrites(row, from, to)) await tx.run(sql, params);
    });
  }

  async moveAlias(a: AliasRecord, actor: string): Promise<AliasMove> {
    return this.db.transaction(async (tx) => {
      // Two processes moving the same alias at once would read the same last seq: the lock
      // (per model and alias, released at commit) makes them take turns.
      await tx.lock(`alias:${a.modelName}/${a.alias}`);
      const last = await tx.one(REGISTRY_SQL.lastMove, [a.modelName, a.alias]);
      const seq = ((last?.seq as number | null) ?? 0) + 1;
      for (const [sql, params] of aliasMoveWrites(a, seq, actor)) await tx.run(sql, params);
      return { ...a, seq, actor };
    });
  }
}
