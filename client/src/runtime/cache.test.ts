import 'fake-indexeddb/auto';
import { sha256Hex } from '@gridtab/shared';
import { describe, expect, it, vi } from 'vitest';
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

  it('keeps resume state by key, as copies, with typed arrays intact', async () => {
    const cache = await open();
    const value = { step: 5, weights: Float32Array.of(1.5, -2) };
    await cache.putState('unit', value);
    value.weights[0] = 99;
    const back = await cache.getState<typeof value>('unit');
    expect(back?.weights).toBeInstanceOf(Float32Array);
    expect(Array.from(back!.weights)).toEqual([1.5, -2]);
    await cache.deleteState('unit');
    expect(await cache.getState('unit')).toBeNull();
  });
});

describe('IdbCache upgrade', () => {
  it('opens a database made before resume state existed, keeping its blobs', async () => {
    const { openDB } = await import('idb');
    const name = `old-${Math.random()}`;
    const old = await openDB(name, 1, {
      upgrade(db) {
        db.createObjectStore('blobs', { keyPath: 'hash' }).createIndex('kind', 'kind');
      },
    });
    await old.put('blobs', { hash: 's', kind: 'shard', bytes: Uint8Array.of(4).buffer, at: 1 });
    old.close();
    const cache = await IdbCache.open(name);
    expect(Array.from((await cache.get('s'))!)).toEqual([4]);
    await cache.putState('k', { a: 1 });
    expect(await cache.getState('k')).toEqual({ a: 1 });
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
    await vi.waitUntil(() => fetcher.downloading === 0);
    expect(Array.from(await fetcher.get('shard', hash))).toEqual([5, 6, 7]);
    expect(calls).toBe(1);
    expect(fetcher.stats).toMatchObject({ downloads: 1, cacheHits: 1 });
    await expect(fetcher.get('weights', 'f'.repeat(64))).rejects.toThrow(/refused/);
  });

  it('hands the bytes over before they are stored, and counts the download in flight until they are', async () => {
    const good = Uint8Array.of(1, 2, 3);
    const hash = await sha256Hex(good);
    let calls = 0;
    const fakeFetch = (async () => {
      calls++;
      return new Response(good);
    }) as unknown as typeof fetch;
    const cache = new MemoryCache();
    let store: () => void = () => {};
    const put = cache.put.bind(cache);
    cache.put = (...args) => new Promise<void>((resolve) => (store = () => put(...args).then(resolve)));
    const fetcher = new BlobFetcher('http://coordinator', cache, fakeFetch);
    expect(Array.from(await fetcher.get('shard', hash))).toEqual([1, 2, 3]);
    expect(await cache.get(hash)).toBeNull(); // not stored yet
    expect(fetcher.downloading).toBe(1);
    // Asked again meanwhile: the same download serves it, nothing is fetched twice.
    expect(Array.from(await fetcher.get('shard', hash))).toEqual([1, 2, 3]);
    expect(calls).toBe(1);
    store();
    await vi.waitUntil(() => fetcher.downloading === 0);
    expect(Array.from((await cache.get(hash))!)).toEqual([1, 2, 3]);
  });
});
