/**
 * The registry's tables on the embedded SQLite store (see registry-records.ts). It shares the
 * SqliteStore's connection, so its transactions are the store's transactions; the statements
 * and the single-statement methods are PostgreSQL's too (sql/registry-sql.ts).
 */
import type { AliasMove, AliasRecord, RegistryStore } from './registry-records.ts';
import { aliasMoveWrites, REGISTRY_SQL, RegistryQueries, renameWrites } from './sql/registry-sql.ts';
import type { SqliteDb } from './sqlite-db.ts';

export class SqliteRegistryStore extends RegistryQueries implements RegistryStore {
  constructor(private readonly db: SqliteDb) {
    super(db);
  }

  async renameModel(from: string, to: string): Promise<void> {
    this.db.transaction(() => {
      const row = this.db.one(REGISTRY_SQL.getModelForRename, [from]);
      if (!row) throw new Error(`model ${from} does not exist`);
      for (const [sql, params] of renameWrites(row, from, to)) this.db.run(sql, params);
    });
  }

  async moveAlias(a: AliasRecord, actor: string): Promise<AliasMove> {
    return this.db.transaction(() => {
      const last = this.db.one(REGISTRY_SQL.lastMove, [a.modelName, a.alias]);
      const seq = ((last?.seq as number | null) ?? 0) + 1;
      for (const [sql, params] of aliasMoveWrites(a, seq, actor)) this.db.run(sql, params);
      return { ...a, seq, actor };
    });
  }
}
