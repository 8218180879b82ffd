/**
 * A download that finds no coordinator is tried again from whichever coordinator the runtime
 * talks to by then (its owner died, the runtime moved); a refusal or a wrong hash is not.
 */
import { sha256Hex } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { MemoryCache } from './cache.ts';
import { BlobFetcher } from './fetcher.ts';

/** Blobs served by a fake coordinator that counts requests (and can fail the first ones). */
async function server(blobs: Uint8Array[], failFirst = 0) {
  const byHash = new Map<string, Uint8Array>();
  for (const b of blobs) byHash.set(await sha256Hex(b), b);
  const requests: string[] = [];
  let failures = failFirst;
  const fetchFn = (async (url: string) => {
    const hash = new URL(url).pathname.split('/').pop()!;
    requests.push(hash);
    if (failures > 0) {
      failures--;
      return new Response(null, { status: 503 });
    }
    const bytes = byHash.get(hash);
    return bytes ? new Response(Uint8Array.from(bytes)) : new Response(null, { status: 404 });
  }) as typeof fetch;
  return { hashes: [...byHash.keys()], requests, fetchFn };
}

/** A cache that counts reads. */
class CountingCache extends MemoryCache {
  reads = 0;
  override async get(hash: string) {
    this.reads++;
    return super.get(hash);
  }
}

describe('BlobFetcher.prefetch', () => {
  it('downloads hinted shards once and hands them to the unit that asks, without reading the cache again', async () => {
    const blobs = [1, 2, 3].map((n) => new Uint8Array(1000).fill(n));
    const { hashes, requests, fetchFn } = await server(blobs);
    const cache = new CountingCache();
    const fetcher = new BlobFetcher('http://co', cache, fetchFn);
    fetcher.prefetch('shard', hashes, 'job');
    const got = await Promise.all(hashes.map((h) => fetcher.get('shard', h, 'job')));
    expect(got.map((b) => b[0])).toEqual([1, 2, 3]);
    expect(requests).toEqual(hashes);
    // One cache read per prefetch (a miss), none for the unit's own get().
    expect(cache.reads).toBe(3);
    expect(await cache.get(hashes[0])).not.toBeNull();
    // Taken: a later get() reads the cache as usual.
    await fetcher.get('shard', hashes[0], 'job');
    expect(requests).toHaveLength(3);
  });

  it('downloads again when a prefetch failed', async () => {
    const blob = new Uint8Array(500).fill(7);
    const { hashes, requests, fetchFn } = await server([blob], 1);
    const fetcher = new BlobFetcher('http://co', new MemoryCache(), fetchFn);
    fetcher.prefetch('shard', hashes);
    const got = await fetcher.get('shard', hashes[0]);
    expect(got[0]).toBe(7);
    expect(requests).toEqual([hashes[0], hashes[0]]);
  });
});

describe('BlobFetcher.prefetch of weights', () => {
  it("holds only the newest version's weights", async () => {
    const blobs = [1, 2].map((n) => new Uint8Array(400).fill(n));
    const { hashes, requests, fetchFn } = await server(blobs);
    const cache = new CountingCache();
    const fetcher = new BlobFetcher('http://co', cache, fetchFn);
    fetcher.prefetch('weights', [hashes[0]]);
    fetcher.prefetch('weights', [hashes[1]]);
    expect((await fetcher.get('weights', hashes[1]))[0]).toBe(2);
    // The older one was let go (not held), but it was downloaded: served from the recent weights.
    await new Promise((r) => setTimeout(r, 0));
    expect((await fetcher.get('weights', hashes[0]))[0]).toBe(1);
    expect(requests.sort()).toEqual([...hashes].sort());
    // Weights never go through the cache (a version lasts one round): no reads, no writes.
    expect(cache.reads).toBe(0);
    expect(await cache.get(hashes[0])).toBeNull();
  });

  it('keeps the last few weights only, and downloads an older one again', async () => {
    const blobs = [1, 2, 3, 4, 5, 6].map((n) => new Uint8Array(400).fill(n));
    const { hashes, requests, fetchFn } = await server(blobs);
    const fetcher = new BlobFetcher('http://co', new CountingCache(), fetchFn);
    for (const h of hashes) await fetcher.get('weights', h);
    expect(requests).toHaveLength(6);
    expect((await fetcher.get('weights', hashes[5]))[0]).toBe(6); // recent: kept
    expect(requests).toHaveLength(6);
    expect((await fetcher.get('weights', hashes[0]))[0]).toBe(1); // oldest: let go
    expect(requests).toHaveLength(7);
  });
});

const bytes = Uint8Array.of(1, 2, 3, 4);

describe('BlobFetcher', () => {
  it('tries a failed download again at the current coordinator', async () => {
    const hash = await sha256Hex(bytes);
    let current = 'http://dead';
    const asked: string[] = [];
    const fetchFn = (async (url: string) => {
      asked.push(url);
      if (url.startsWith('http://dead')) {
        current = 'http://alive'; // the runtime moved while the download failed
        throw new TypeError('fetch failed');
      }
      return new Response(bytes);
    }) as typeof fetch;
    const fetcher = new BlobFetcher(() => current, new MemoryCache(), fetchFn, [0, 0]);
    expect(Array.from(await fetcher.get('shard', hash, 'j1'))).toEqual([1, 2, 3, 4]);
    expect(asked).toEqual([
      `http://dead/datasets/shards/${hash}?job=j1`,
      `http://alive/datasets/shards/${hash}?job=j1`,
    ]);
  });

  it('gives up after its tries, and never tries a refusal or a wrong hash again', async () => {
    const hash = await sha256Hex(bytes);
    let calls = 0;
    const failing = (status: number | null) =>
      (async () => {
        calls++;
        if (status === null) throw new TypeError('fetch failed');
        return new Response(status === 200 ? Uint8Array.of(9) : null, { status });
      }) as typeof fetch;
    const cases: [number | null, number, RegExp][] = [
      [null, 3, /failed: fetch failed/],
      [503, 3, /answered 503/],
      [404, 1, /answered 404/],
      [200, 1, /arrived with hash/],
    ];
    for (const [status, tries, error] of cases) {
      calls = 0;
      const fetcher = new BlobFetcher('http://c', new MemoryCache(), failing(status), [0, 0]);
      await expect(fetcher.get('weights', hash)).rejects.toThrow(error);
      expect(calls, `status ${status}`).toBe(tries);
    }
  });
});
