/**
 * Fetches content-addressed bytes through the cache and verifies their hash, so a corrupted
 * or tampered download is refused instead of trained on. A download that fails for want of a
 * coordinator (the request itself fails, or a 502/503/504 from a proxy in front) is tried again
 * after a pause, from whichever coordinator the runtime talks to by then: when the one serving
 * the unit dies, the runtime moves to another and the unit in hand is not given up.
 */
import { sha256Hex } from '@gridtab/shared';
import type { BlobCache, BlobKind } from './cache.ts';

export interface FetchStats {
  downloads: number;
  cacheHits: number;
  bytesDownloaded: number;
}

/** Prefetched blobs held in memory at most (a unit's shards a few times over, one model's weights). */
const PREFETCH_HELD = 16;
/**
 * Downloaded weights kept in memory, newest first, up to these bytes (the newest always): a unit
 * of an older version (an asynchronous job's stale base) is served from here. Weights are not
 * written to the cache: a version lasts one round, and writing every version's weights to
 * IndexedDB (three tabs of an origin, three copies) cost more than it ever saved; a reloaded tab
 * downloads its unit's base again.
 */
const RECENT_WEIGHTS_BYTES = 64 << 20;
const RECENT_WEIGHTS = 4;

/** Pauses before each new try of a download that found no coordinator (about 11 s in all). */
export const FETCH_RETRY_MS: readonly number[] = [500, 1000, 2000, 4000, 4000];

/** Answers that mean "no coordinator behind this address now", not "no such bytes". */
const UNAVAILABLE = new Set([502, 503, 504]);

export class BlobFetcher {
  readonly stats: FetchStats = { downloads: 0, cacheHits: 0, bytesDownloaded: 0 };
  /** Downloads in flight: a unit asking for weights a prefetch is fetching waits for that one. */
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();
  /**
   * Prefetched bytes held in memory for the unit that will ask for them (taken by get(), so the
   * cache is not read again): the newest PREFETCH_HELD only, the rest stays in the cache.
   */
  private readonly held = new Map<string, { kind: BlobKind; bytes: Promise<Uint8Array> }>();
  /** Weights downloaded lately, oldest first (RECENT_WEIGHTS_BYTES). */
  private readonly recentWeights = new Map<string, Uint8Array>();

  constructor(
    /** The coordinator to fetch from now (a client with several follows its current one). */
    private readonly baseUrl: string | (() => string),
    private readonly cache: BlobCache,
    private readonly fetchFn: typeof fetch = (...args) => fetch(...args),
    private readonly retryMs: readonly number[] = FETCH_RETRY_MS,
  ) {}

  /** Downloads not yet stored in the cache (a reload now would lose them). */
  get downloading(): number {
    return this.inFlight.size;
  }

  /** `jobId` names the job the bytes are for, so the coordinator counts them in its usage. */
  get(kind: BlobKind, hash: string, jobId?: string): Promise<Uint8Array> {
    const held = this.held.get(hash);
    if (held) {
      this.held.delete(hash);
      // A prefetch that failed is tried again as a plain download.
      return held.bytes.catch(() => this.download(kind, hash, jobId));
    }
    return this.download(kind, hash, jobId);
  }

  /**
   * From the cache or the coordinator, one download per hash at a time. The bytes are handed
   * over once verified; storing them in the cache goes on behind (an IndexedDB write, tens of
   * milliseconds on a busy machine, that the unit need not wait for), and the download counts
   * as in flight until they are stored.
   */
  private download(kind: BlobKind, hash: string, jobId?: string): Promise<Uint8Array> {
    const pending = this.inFlight.get(hash);
    if (pending) return pending;
    const fetched = this.fetchOnce(kind, hash, jobId);
    const got = fetched.then((f) => f.bytes);
    this.inFlight.set(hash, got);
    void fetched
      .then(
        (f) => f.stored,
        () => undefined,
      )
      .finally(() => this.inFlight.delete(hash));
    return got;
  }

  /**
   * Starts fetching bytes a later unit will likely ask for (a hint in the unit offer), one after
   * another so they do not crowd out a unit's own downloads, and holds them for that unit.
   */
  prefetch(kind: BlobKind, hashes: readonly string[], jobId?: string): void {
    // Weights: only the newest version's are worth holding (a model can be large).
    if (kind === 'weights') for (const [h, e] of this.held) if (e.kind === 'weights') this.held.delete(h);
    let chain: Promise<unknown> = Promise.resolve();
    for (const hash of hashes) {
      if (this.held.has(hash)) continue;
      const bytes = chain.then(() => this.download(kind, hash, jobId));
      bytes.catch(() => {}); // get() tries again
      chain = bytes.catch(() => {});
      this.held.set(hash, { kind, bytes });
      while (this.held.size > PREFETCH_HELD) this.held.delete(this.held.keys().next().value!);
    }
  }

  private async fetchOnce(
    kind: BlobKind,
    hash: string,
    jobId?: string,
  ): Promise<{ bytes: Uint8Array; stored: Promise<void> }> {
    const recent = kind === 'weights' ? this.recentWeights.get(hash) : undefined;
    if (recent) {
      this.stats.cacheHits++;
      return { bytes: recent, stored: Promise.resolve() };
    }
    const cached = kind === 'weights' ? null : await this.cache.get(hash);
    if (cached) {
      this.stats.cacheHits++;
      return { bytes: cached, stored: Promise.resolve() };
    }
    const path = kind === 'shard' ? `/datasets/shards/${hash}` : `/models/weights/${hash}`;
    const query = jobId ? `?job=${encodeURIComponent(jobId)}` : '';
    const bytes = await this.fetchPath(`${path}${query}`);
    const actual = await sha256Hex(bytes);
    if (actual !== hash) throw new Error(`${kind} ${hash} arrived with hash ${actual}; refused`);
    this.stats.downloads++;
    this.stats.bytesDownloaded += bytes.byteLength;
    if (kind === 'weights') {
      this.keepWeights(hash, bytes);
      return { bytes, stored: Promise.resolve() };
    }
    // Not stored (a full or failing cache) costs a download again later, never the unit.
    const stored = this.cache.put(hash, kind, bytes).catch(() => {});
    return { bytes, stored };
  }

  private keepWeights(hash: string, bytes: Uint8Array): void {
    const recent = this.recentWeights;
    recent.set(hash, bytes);
    let total = 0;
    for (const b of recent.values()) total += b.byteLength;
    for (const [h, b] of recent) {
      if (recent.size <= 1 || (recent.size <= RECENT_WEIGHTS && total <= RECENT_WEIGHTS_BYTES)) break;
      recent.delete(h);
      total -= b.byteLength;
    }
  }

  /** The body of GET `path` from the current coordinator, tried again while none answers. */
  private async fetchPath(path: string): Promise<Uint8Array> {
    for (let attempt = 0; ; attempt++) {
      const base = typeof this.baseUrl === 'string' ? this.baseUrl : this.baseUrl();
      let failure: string;
      try {
        const res = await this.fetchFn(`${base}${path}`);
        if (res.ok) return new Uint8Array(await res.arrayBuffer());
        if (!UNAVAILABLE.has(res.status)) throw new Error(`GET ${path} answered ${res.status}`);
        failure = `GET ${path} answered ${res.status}`;
      } catch (e) {
        // The request failed (refused, reset): fetch rejects with a TypeError.
        if (!(e instanceof TypeError)) throw e;
        failure = `GET ${path} failed: ${e.message}`;
      }
      if (attempt >= this.retryMs.length) throw new Error(failure);
      await new Promise((r) => setTimeout(r, this.retryMs[attempt]));
    }
  }
}
