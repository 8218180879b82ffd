/**
 * Content-addressed blob store: bytes are named by their sha256. Writes go to a temporary file,
 * are fsynced, renamed into place and the directory is fsynced, so after a crash a blob is
 * either whole under its name or absent. Rows that point at a blob are committed only after
 * `put` resolves.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { HASH_PATTERN } from '@gridtab/shared';
import { BlobWriter } from './blob-writer.ts';

export interface BlobStore {
  put(bytes: Uint8Array): Promise<string>;
  get(hash: string): Promise<Uint8Array | null>;
  has(hash: string): Promise<boolean>;
  /**
   * Removes a blob (garbage collection of dataset shards no version uses); returns the bytes
   * freed, 0 when it was absent. The caller decides that nothing references it.
   */
  delete(hash: string): Promise<number>;
  /** Size in bytes, or null when absent. */
  size(hash: string): Promise<number | null>;
  /** Every blob with its size, in no particular order (storage accounting and collection). */
  list(): AsyncIterable<{ hash: string; bytes: number }>;
  /**
   * Optional: a hint that the blob stored under `hash` (these bytes) is about to be read by many
   * (a version's weights at its commit); a store that keeps blobs in memory keeps these.
   */
  remember?(hash: string, bytes: Uint8Array): void;
  /**
   * Optional: puts whose durability is settled together (a dataset import's hundreds of
   * shards). A store without it is used through put.
   */
  batch?(): BlobBatch;
}

/**
 * Blobs put together and made durable at once. Until `commit` resolves, none is readable under
 * its name nor durable; after, each is as durable as a put's. Nothing may reference a blob of
 * the batch before commit resolves. `abort` drops what commit did not take.
 */
export interface BlobBatch {
  put(bytes: Uint8Array): Promise<string>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * A blob store that also takes bytes under a name the caller chooses: what an encrypting
 * wrapper (encrypted-blob-store.ts) needs beneath it, since it names ciphertext by the sha256 of
 * the plaintext.
 */
export interface RawBlobStore extends BlobStore {
  /** Stores `bytes` under `hash`, replacing what is there; after a crash, the old or the new, whole. */
  write(hash: string, bytes: Uint8Array): Promise<void>;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `sha256Async` hashes this much between turns of the event loop (a few ms each). */
const HASH_CHUNK_BYTES = 1 << 18;

/**
 * sha256 for the write paths. A 16 MB weights blob takes 50 ms or more to hash on a busy
 * machine (bench:abuse measured 150 ms): in one piece on the event loop that is a health check,
 * heartbeat or submit held up. So large blobs are hashed 256 KiB at a time, yielding between
 * pieces. (WebCrypto's digest is no help: on Node 20 it measured slower and still held the loop.)
 * The caller must not change `bytes` until it resolves.
 */
export async function sha256Async(bytes: Uint8Array): Promise<string> {
  if (bytes.byteLength <= HASH_CHUNK_BYTES) return sha256(bytes);
  const hash = createHash('sha256');
  for (let at = 0; at < bytes.byteLength; at += HASH_CHUNK_BYTES) {
    hash.update(bytes.subarray(at, at + HASH_CHUNK_BYTES));
    await new Promise((r) => setImmediate(r));
  }
  return hash.digest('hex');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsyncs a file or a folder by path. */
async function syncPath(path: string): Promise<void> {
  const handle = await fs.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Runs `each` over `items`, 16 at a time (the thread pool has 4 threads; a queue of all is memory). */
async function inParallel<T>(items: T[], each: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await each(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(16, items.length) }, worker));
}

export class FileBlobStore implements RawBlobStore {
  /** Fan-out folders known to exist. */
  private readonly folders = new Set<string>();

  private constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<FileBlobStore> {
    await fs.mkdir(join(dir, 'tmp'), { recursive: true });
    // Temporary files of processes that died (a batch's can be a whole import's shards).
    for (const name of await fs.readdir(join(dir, 'tmp'))) {
      const pid = Number(name.split('.')[1]);
      if (Number.isInteger(pid) && pid !== process.pid && !alive(pid))
        await fs.rm(join(dir, 'tmp', name), { force: true });
    }
    return new FileBlobStore(dir);
  }

  private tmpPath(hash: string): string {
    return join(this.dir, 'tmp', `${hash}.${process.pid}.${Math.random().toString(36).slice(2)}`);
  }

  private async folderFor(hash: string): Promise<string> {
    const folder = join(this.dir, hash.slice(0, 2));
    // At most 256 fan-out folders: made once each, not a mkdir a blob (an import writes thousands).
    if (!this.folders.has(folder)) {
      await fs.mkdir(folder, { recursive: true });
      this.folders.add(folder);
    }
    return folder;
  }

  /**
   * Each put sends a temporary file to the batch's writer thread (blob-writer.ts), which writes
   * it and fsyncs it in the background; commit waits for those, renames the files into place and
   * fsyncs each fan-out folder once. Against put's open, write, fsync, close, rename and folder
   * fsync a blob, a 20 MB CSV import's 490 shards cost about half the CPU.
   */
  batch(): BlobBatch {
    const pending = new Map<string, string>();
    let writer: BlobWriter | null = null;
    let closed = false;
    return {
      put: async (bytes) => {
        if (closed) throw new Error('the blob batch is closed');
        const hash = await sha256Async(bytes);
        if (pending.has(hash)) return hash;
        // Checked synchronously (a stat), and written and synced by the batch's writer thread:
        // async here, each write was three thread-pool round trips queued behind the syncs (a
        // quarter of a 200 MB CSV's encoding pass), and sync, its open() waited on the journal.
        if (existsSync(this.pathOf(hash))) return hash;
        const tmp = this.tmpPath(hash);
        pending.set(hash, tmp);
        writer ??= new BlobWriter();
        await writer.write(tmp, bytes);
        return hash;
      },
      commit: async () => {
        closed = true;
        const entries = [...pending];
        const folders = new Set<string>();
        await writer?.drain();
        await inParallel(entries, async ([hash, tmp]) => {
          const folder = await this.folderFor(hash);
          folders.add(folder);
          await fs.rename(tmp, join(folder, hash)).catch(async (e: NodeJS.ErrnoException) => {
            if (e.code !== 'ENOENT') throw e;
            this.folders.delete(folder);
            await fs.mkdir(folder, { recursive: true });
            await fs.rename(tmp, join(folder, hash));
          });
          pending.delete(hash);
        });
        await inParallel([...folders], syncPath);
      },
      abort: async () => {
        closed = true;
        await writer?.abort();
        await inParallel([...pending.values()], (tmp) => fs.rm(tmp, { force: true }));
        pending.clear();
      },
    };
  }

  private pathOf(hash: string): string {
    // Two-level fan-out keeps directories small when a job accumulates many updates.
    return join(this.dir, hash.slice(0, 2), hash);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = await sha256Async(bytes);
    if (!(await this.has(hash))) await this.write(hash, bytes);
    return hash;
  }

  async write(hash: string, bytes: Uint8Array): Promise<void> {
    if (!HASH_PATTERN.test(hash)) throw new Error(`not a blob name: ${hash}`);
    const target = this.pathOf(hash);
    const folder = await this.folderFor(hash);
    const tmp = this.tmpPath(hash);
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target).catch(async (e: NodeJS.ErrnoException) => {
      // The folder was removed behind this store's back: made again.
      if (e.code !== 'ENOENT') throw e;
      await fs.mkdir(folder, { recursive: true });
      await fs.rename(tmp, target);
    });
    await syncPath(folder);
  }

  async get(hash: string): Promise<Uint8Array | null> {
    if (!HASH_PATTERN.test(hash)) return null;
    try {
      // The Buffer itself, not a copy: 16 MB of weights copied is time on the event loop.
      const buf = await fs.readFile(this.pathOf(hash));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async has(hash: string): Promise<boolean> {
    if (!HASH_PATTERN.test(hash)) return false;
    try {
      await fs.access(this.pathOf(hash));
      return true;
    } catch {
      return false;
    }
  }

  async delete(hash: string): Promise<number> {
    if (!HASH_PATTERN.test(hash)) return 0;
    try {
      const { size } = await fs.stat(this.pathOf(hash));
      await fs.unlink(this.pathOf(hash));
      return size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
  }

  async size(hash: string): Promise<number | null> {
    if (!HASH_PATTERN.test(hash)) return null;
    try {
      return (await fs.stat(this.pathOf(hash))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async *list(): AsyncIterable<{ hash: string; bytes: number }> {
    for (const folder of await fs.readdir(this.dir)) {
      // Only the two-hex-digit fan-out folders hold blobs; tmp/ holds writes in progress.
      if (!/^[0-9a-f]{2}$/.test(folder)) continue;
      for (const name of await fs.readdir(join(this.dir, folder))) {
        if (!HASH_PATTERN.test(name)) continue;
        const bytes = await this.size(name);
        if (bytes !== null) yield { hash: name, bytes };
      }
    }
  }
}
