/**
 * Picks the storage for a coordinator: PostgreSQL (store and blobs) when DATABASE_URL is set,
 * so several processes share one state; else the embedded SQLite store and blob folder under
 * DATA_DIR.
 */
import { join } from 'node:path';
import type { CoordinatorConfig } from '../config.ts';
import { type BlobStore, FileBlobStore } from './blob-store.ts';
import { PgBlobStore } from './postgres/pg-blob-store.ts';
import { PgStore } from './postgres/pg-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

export async function openStorage(
  config: Pick<CoordinatorConfig, 'dataDir' | 'databaseUrl'>,
): Promise<{ store: Store; blobs: BlobStore }> {
  if (config.databaseUrl) {
    const store = await PgStore.open(config.databaseUrl);
    // The blob store shares the store's pool; closing the store ends both.
    return { store, blobs: await PgBlobStore.open(store.pool) };
  }
  return {
    store: new SqliteStore(join(config.dataDir, 'gridtab.sqlite')),
    blobs: await FileBlobStore.open(join(config.dataDir, 'blobs')),
  };
}
