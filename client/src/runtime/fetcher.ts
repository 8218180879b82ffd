/**
 * Fetches content-addressed bytes through the cache and verifies their hash, so a corrupted
 * or tampered download is refused instead of trained on.
 */
import { sha256Hex } from '@gridtab/shared';
import type { BlobCache, BlobKind } from './cache.ts';

export interface FetchStats {
  downloads: number;
  cacheHits: number;
  bytesDownloaded: number;
}

export class BlobFetcher {
  readonly stats: FetchStats = { downloads: 0, cacheHits: 0, bytesDownloaded: 0 };
  /** Downloads in flight: a unit asking for weights a prefetch is fetching waits for that one. */
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();

  constructor(
    /** The coordinator to fetch from now (a client with several follows its current one). */
    private readonly baseUrl: string | (() => string),
    private readonly cache: BlobCache,
    private readonly fetchFn: typeof fetch = (...args) => fetch(...args),
  ) {}

  /** `jobId` names the job the bytes are for, so the coordinator counts them in its usage. */
  get(kind: BlobKind, hash: string, jobId?: string): Promise<Uint8Array> {
    const pending = this.inFlight.get(hash);
    if (pending) return pending;
    const got = this.fetchOnce(kind, hash, jobId).finally(() => this.inFlight.delete(hash));
    this.inFlight.set(hash, got);
    return got;
  }

  private async fetchOnce(kind: BlobKind, hash: string, jobId?: string): Promise<Uint8Array> {
    const cached = await this.cache.get(hash);
    if (cached) {
      this.stats.cacheHits++;
      return cached;
    }
    const path = kind === 'shard' ? `/datasets/shards/${hash}` : `/models/weights/${hash}`;
    const base = typeof this.baseUrl === 'string' ? this.baseUrl : this.baseUrl();
    const query = jobId ? `?job=${encodeURIComponent(jobId)}` : '';
    const res = await this.fetchFn(`${base}${path}${query}`);
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const actual = await sha256Hex(bytes);
    if (actual !== hash) throw new Error(`${kind} ${hash} arrived with hash ${actual}; refused`);
    this.stats.downloads++;
    this.stats.bytesDownloaded += bytes.byteLength;
    await this.cache.put(hash, kind, bytes);
    if (kind === 'weights') await this.cache.pruneWeights(4);
    return bytes;
  }
}
