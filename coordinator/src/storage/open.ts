/**
 * Picks the storage for a coordinator: PostgreSQL (store and blobs) when DATABASE_URL is set,
 * so several processes share one state; else the embedded SQLite store and blob folder under
 * DATA_DIR. With DATA_KEY the blobs are encrypted at rest (encrypted-blob-store.ts).
 */
import { join } from 'node:path';
import type pg from 'pg';
import type { CoordinatorConfig } from '../config.ts';
import { type BlobStore, FileBlobStore, type RawBlobStore } from './blob-store.ts';
import type { DataKeys } from './data-key.ts';
import { assertNotEncrypted, EncryptedBlobStore } from './encrypted-blob-store.ts';
import { PgBlobStore } from './postgres/pg-blob-store.ts';
import { PgStore } from './postgres/pg-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

export type StorageConfig = Pick<CoordinatorConfig, 'dataDir' | 'databaseUrl'> & {
  dataKeys?: DataKeys | null;
};

/** The blob store beneath any encryption: PostgreSQL when `pool` is given, else files under DATA_DIR. */
export function openRawBlobs(config: Pick<StorageConfig, 'dataDir'>, pool?: pg.Pool): Promise<RawBlobStore> {
  return pool ? PgBlobStore.open(pool) : FileBlobStore.open(join(config.dataDir, 'blobs'));
}

/** Wraps `raw` in encryption when keys are set; throws on a wrong key, or on no key for an encrypted store. */
export async function encryptIfKeyed(
  raw: RawBlobStore,
  keys: DataKeys | null | undefined,
): Promise<BlobStore> {
  if (keys) return EncryptedBlobStore.open(raw, keys);
  await assertNotEncrypted(raw);
  return raw;
}

export async function openStorage(config: StorageConfig): Promise<{ store: Store; blobs: BlobStore }> {
  const store = config.databaseUrl
    ? await PgStore.open(config.databaseUrl)
    : new SqliteStore(join(config.dataDir, 'gridtab.sqlite'));
  try {
    // The PostgreSQL blob store shares the store's pool; closing the store ends both.
    const raw = await openRawBlobs(config, store instanceof PgStore ? store.pool : undefined);
    return { store, blobs: await encryptIfKeyed(raw, config.dataKeys) };
  } catch (e) {
    // A wrong key must not leave a pool or a database handle open behind the error.
    await store.close();
    throw e;
  }
}
