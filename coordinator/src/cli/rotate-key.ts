/**
 * `gridtab rotate-key` (also `npm run rotate-key`): re-encrypts every blob under DATA_KEY, reading
 * older ones with DATA_KEY_PREVIOUS, directly in the blob store (DATA_DIR's folder, or
 * DATABASE_URL's table): it needs the storage's environment, not the coordinator's HTTP API.
 * Each blob is replaced atomically and the key check moves last, so an interrupted run is simply
 * run again; a coordinator may keep running meanwhile with the same keys.
 */
import { resolve } from 'node:path';
import { dataKeysFromEnv } from '../storage/data-key.ts';
import { EncryptedBlobStore } from '../storage/encrypted-blob-store.ts';
import { openRawBlobs } from '../storage/open.ts';
import { ownPool } from '../storage/postgres/pg-store.ts';
import { type CliIo, EXIT, UsageError } from './dataset.ts';

export const ROTATE_KEY_HELP = `Key rotation (run where the coordinator's storage is reachable):
  gridtab rotate-key     re-encrypt every blob under DATA_KEY; older blobs are read with
                         DATA_KEY_PREVIOUS, unencrypted ones are sealed. Uses DATA_DIR or
                         DATABASE_URL like the coordinator. Safe to interrupt and run again.`;

export async function rotateKeyCommand(args: string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(ROTATE_KEY_HELP);
    return EXIT.ok;
  }
  if (args.length) throw new UsageError(`rotate-key takes no arguments, got '${args.join(' ')}'`);
  let keys: ReturnType<typeof dataKeysFromEnv>;
  try {
    keys = dataKeysFromEnv(io.env);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!keys) throw new UsageError('rotate-key needs DATA_KEY (or DATA_KEY_FILE): the key to encrypt under');
  // A pool with an 'error' listener: a connection the server ends while idle is not the end.
  const pool = io.env.DATABASE_URL ? ownPool(io.env.DATABASE_URL, 2) : undefined;
  try {
    const raw = await openRawBlobs({ dataDir: resolve(io.env.DATA_DIR || './data') }, pool);
    // Opening checks the key: a wrong DATA_KEY stops here, before anything is rewritten.
    const store = await EncryptedBlobStore.open(raw, keys);
    const { rewritten, current } = await store.rotate();
    io.out(`rotate-key: re-encrypted ${rewritten} blobs, ${current} were already under the current key`);
    return EXIT.ok;
  } catch (e) {
    io.err(`gridtab: rotate-key failed: ${(e as Error).message}`);
    return EXIT.failed;
  } finally {
    await pool?.end();
  }
}
