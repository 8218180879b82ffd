/**
 * A download that finds no coordinator is tried again from whichever coordinator the runtime
 * talks to by then (its owner died, the runtime moved); a refusal or a wrong hash is not.
 */
import { sha256Hex } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { MemoryCache } from './cache.ts';
import { BlobFetcher } from './fetcher.ts';

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
