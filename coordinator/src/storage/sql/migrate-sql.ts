/** The bookkeeping of migrations.ts's list: which versions a database has applied. */
export const MIGRATE_SQL = {
  createTable: 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)',
  applied: 'SELECT version FROM schema_migrations',
  record: 'INSERT INTO schema_migrations (version) VALUES (?)',
} as const;
