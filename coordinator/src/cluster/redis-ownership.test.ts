import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisOwnership } from './redis-ownership.ts';

const URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const clients: Redis[] = [];
const client = () => {
  const c = new Redis(URL);
  clients.push(c);
  return c;
};
afterAll(async () => {
  for (const c of clients) c.disconnect();
});

describe('RedisOwnership', () => {
  it('gives a job to one process, tells the others where it is, and hands it over on release', async () => {
    const job = `j-${randomUUID()}`;
    const a = new RedisOwnership(client(), 'http://a:1', 2000);
    const b = new RedisOwnership(client(), 'http://b:2', 2000);
    expect(await a.claim(job)).toBe(true);
    expect(await b.claim(job)).toBe(false);
    expect(await a.claim(job)).toBe(true); // the owner confirms (and renews)
    expect(await b.ownerUrl(job)).toBe('http://a:1');
    await a.close();
    expect(await b.claim(job)).toBe(true);
    expect(await a.ownerUrl(job)).toBe('http://b:2');
    await b.close();
    expect(await a.ownerUrl(job)).toBeNull();
  });

  it("takes over a dead owner's job once its key lapses, and the old owner learns it lost it", async () => {
    const job = `j-${randomUUID()}`;
    const deadRedis = client();
    const dead = new RedisOwnership(deadRedis, 'http://dead:1', 1000);
    const lost: string[] = [];
    dead.onLost((id) => lost.push(id));
    const live = new RedisOwnership(client(), 'http://live:2', 1000);
    expect(await dead.claim(job)).toBe(true);
    // The key is renewed while its owner runs: still held after more than one TTL.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await live.claim(job)).toBe(false);
    // The owner stops renewing (as a killed process would): the key lapses and the job moves.
    await dead.close().catch(() => {});
    await client().set(`gridtab:owner:${job}`, `dead-token http://dead:1`, 'PX', 500);
    await expect.poll(() => live.claim(job), { timeout: 5000, interval: 100 }).toBe(true);
    // A process that believed it still owned the job finds out at its next claim.
    const stale = new RedisOwnership(client(), 'http://stale:3', 1000);
    (stale as unknown as { owned: Set<string> }).owned.add(job);
    stale.onLost((id) => lost.push(id));
    expect(await stale.claim(job)).toBe(false);
    expect(lost).toEqual([job]);
    await live.close();
    await stale.close();
  });
});
