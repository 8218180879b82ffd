import 'fake-indexeddb/auto';
import { sha256Hex } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { type BlobCache, IdbCache, MemoryCache } from './cache.ts';
import { BlobFetcher } from './fetcher.ts';

const caches: [string, () => Promise<BlobCache>][] = [
  ['memory', async () => new MemoryCache()],
  ['IndexedDB', () => IdbCache.open(`test-${Math.random()}`)],
];

describe.each(caches)('%s cache', (_, open) => {
  it('returns what was put and prunes only old weights', async () => {
    const cache = await open();
    await cache.put('s1', 'shard', Uint8Array.of(1, 2, 3));
    for (const w of ['w1', 'w2', 'w3']) {
      await cache.put(w, 'weights', Uint8Array.of(9));
      await new Promise((r) => setTimeout(r, 2)); // distinct timestamps
    }
    expect(Array.from((await cache.get('s1'))!)).toEqual([1, 2, 3]);
    await cache.pruneWeights(1);
    expect(await cache.get('w1')).toBeNull();
    expect(await cache.get('w2')).toBeNull();
    expect(await cache.get('w3')).not.toBeNull();
    expect(await cache.get('s1')).not.toBeNull();
  });
});

describe('BlobFetcher', () => {
  it('downloads once, then serves from the cache, and refuses bytes whose hash is wrong', async () => {
    const good = Uint8Array.of(5, 6, 7);
    const hash = await sha256Hex(good);
    let calls = 0;
    const served = new Map([[hash, good]]);
    const fakeFetch = (async (url: string) => {
      calls++;
      const h = url.split('/').pop()!;
      return new Response(served.get(h) ?? Uint8Array.of(0));
    }) as unknown as typeof fetch;
    const fetcher = new BlobFetcher('http://coordinator', new MemoryCache(), fakeFetch);
    expect(Array.from(await fetcher.get('shard', hash))).toEqual([5, 6, 7]);
    expect(Array.from(await fetcher.get('shard', hash))).toEqual([5, 6, 7]);
    expect(calls).toBe(1);
    expect(fetcher.stats).toMatchObject({ downloads: 1, cacheHits: 1 });
    await expect(fetcher.get('weights', 'f'.repeat(64))).rejects.toThrow(/refused/);
  });
});
