/**
 * Blobs read lately, and those the caller said would be read soon (`remember`), kept in memory in
 * front of the blob store. A version's weights are read right after their commit by everyone at
 * once: the next round's opening, and every tab of the job over HTTP. From disk, each of those
 * reads went through libuv's thread pool, which on a two-core machine shared with the tabs took
 * 15-50 ms a read in bench:train's trace, on the path from a round's last update to the next
 * round's first step. `put` keeps nothing: most puts are updates, read once at most, and keeping
 * them would push the weights out. Writes reach the store beneath before `put` resolves.
 *
 * Callers may change what `get` hands them (weights loaded to be stepped in place), so `get`
 * returns a copy; `peek` returns the kept bytes themselves, for readers that only send them.
 * Bounded by bytes (lru-cache's maxSize), least recently used out first.
 */
import { LRUCache } from 'lru-cache';
import type { BlobBatch, BlobStore } from './blob-store.ts';

/** Kept in memory at most, by default: a few versions of a large model's weights. */
export const RECENT_BLOB_BYTES = 64 * 1024 * 1024;

export class RecentBlobs implements BlobStore {
  private readonly kept: LRUCache<string, Uint8Array>;
  /** Deletes so far: a read that began before one does not keep what it read. */
  private deletes = 0;

  constructor(
    private readonly inner: BlobStore,
    maxBytes = RECENT_BLOB_BYTES,
  ) {
    this.kept = new LRUCache<string, Uint8Array>({
      maxSize: maxBytes,
      // Blobs larger than the whole budget are not kept (lru-cache refuses them itself).
      sizeCalculation: (bytes) => Math.max(1, bytes.byteLength),
    });
  }

  put(bytes: Uint8Array): Promise<string> {
    return this.inner.put(bytes);
  }

  /**
   * Keeps a copy of `bytes`, stored under `hash`, for the reads about to come (a version's
   * weights once committed). The caller keeps its array and may change it afterwards.
   */
  remember(hash: string, bytes: Uint8Array): void {
    this.kept.set(hash, bytes.slice());
  }

  async get(hash: string): Promise<Uint8Array | null> {
    const bytes = await this.peek(hash);
    return bytes ? bytes.slice() : null;
  }

  /** The bytes themselves, not a copy: the caller must not change them. */
  async peek(hash: string): Promise<Uint8Array | null> {
    const kept = this.kept.get(hash);
    if (kept) return kept;
    const deletes = this.deletes;
    const bytes = await this.inner.get(hash);
    if (bytes && deletes === this.deletes) this.kept.set(hash, bytes);
    return bytes;
  }

  async has(hash: string): Promise<boolean> {
    return this.kept.has(hash) || this.inner.has(hash);
  }

  async delete(hash: string): Promise<number> {
    this.deletes++;
    this.kept.delete(hash);
    return this.inner.delete(hash);
  }

  async size(hash: string): Promise<number | null> {
    return this.kept.get(hash)?.byteLength ?? this.inner.size(hash);
  }

  list(): AsyncIterable<{ hash: string; bytes: number }> {
    return this.inner.list();
  }

  get batch(): (() => BlobBatch) | undefined {
    const inner = this.inner;
    return inner.batch ? () => inner.batch!() : undefined;
  }
}
