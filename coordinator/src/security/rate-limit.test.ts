/**
 * One suite for both rate limiters: the in-process buckets and the Redis buckets that every
 * coordinator process shares. For Redis, two limiters on two connections stand for two
 * processes: what one takes, the other sees. Keys are random so parallel runs do not meet.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { KeyedRateLimiter, type RateLimit, type RateLimiter } from './rate-limit.ts';
import { RedisRateLimiter } from './redis-rate-limit.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const connections: Redis[] = [];
afterAll(async () => {
  await Promise.all(connections.map((c) => c.quit()));
});

/** Two handles on one limit: the same object in-process, two connections for Redis. */
type Pair = (limit: RateLimit, clock: ManualClock) => [RateLimiter, RateLimiter];

const variants: [string, Pair][] = [
  [
    'in-process',
    (limit, clock) => {
      const one = new KeyedRateLimiter(limit, clock);
      return [one, one];
    },
  ],
  [
    'redis (two connections)',
    (limit, clock) => {
      const name = `test-${randomUUID()}`;
      const open = () => {
        const redis = new Redis(REDIS_URL);
        connections.push(redis);
        return new RedisRateLimiter(redis, name, limit, clock);
      };
      return [open(), open()];
    },
  ],
];

describe.each(variants)('rate limiter: %s', (_, pair) => {
  it('allows the burst across handles, then says when the next token comes', async () => {
    const clock = new ManualClock();
    const [a, b] = pair({ burst: 3, perMinute: 6 }, clock);
    const answers = [await a.take('10.0.0.1'), await b.take('10.0.0.1'), await a.take('10.0.0.1')];
    expect(answers).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(await b.peek('10.0.0.1')).toEqual({ ok: false, retryAfterMs: 10_000 });
    expect(await b.take('10.0.0.1')).toEqual({ ok: false, retryAfterMs: 10_000 });
    // Another address has its own bucket.
    expect(await b.take('10.0.0.2')).toEqual({ ok: true });
    clock.advance(4_000);
    expect(await a.take('10.0.0.1')).toEqual({ ok: false, retryAfterMs: 6_000 });
    clock.advance(6_000);
    expect(await b.take('10.0.0.1')).toEqual({ ok: true });
    expect((await a.take('10.0.0.1')).ok).toBe(false);
  });

  it('peeking takes nothing, and a zero rate never refills', async () => {
    const clock = new ManualClock();
    const [a, b] = pair({ burst: 1, perMinute: 0 }, clock);
    for (let i = 0; i < 3; i++) expect(await a.peek('k')).toEqual({ ok: true });
    expect(await b.take('k')).toEqual({ ok: true });
    clock.advance(3_600_000);
    expect(await a.take('k')).toEqual({ ok: false, retryAfterMs: 60_000 });
  });
});

describe('redis rate limiter', () => {
  it('expires a bucket once it would be full again, and falls back to the process when Redis fails', async () => {
    const clock = new ManualClock();
    const redis = new Redis(REDIS_URL);
    connections.push(redis);
    const name = `test-${randomUUID()}`;
    const limiter = new RedisRateLimiter(redis, name, { burst: 2, perMinute: 60 }, clock);
    await limiter.take('10.0.0.9');
    const ttl = await redis.pttl(`gridtab:limit:${name}:10.0.0.9`);
    // One token short refills in 1 s; the key lives that long plus a second of slack.
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(2_000);
    const logs: string[] = [];
    const broken = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    broken.on('error', () => {});
    connections.push(broken);
    const fallback = new RedisRateLimiter(broken, name, { burst: 1, perMinute: 0 }, clock, (m) =>
      logs.push(m),
    );
    expect(await fallback.take('x')).toEqual({ ok: true });
    expect(await fallback.take('x')).toEqual({ ok: false, retryAfterMs: 60_000 });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/limiting per process/);
  });
});
