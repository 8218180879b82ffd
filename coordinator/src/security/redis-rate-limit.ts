/**
 * The per-address buckets shared by every coordinator process (REDIS_URL): without this, N
 * processes behind a load balancer would let an address join N times as often and guess N times
 * as many tokens. The same token bucket as KeyedRateLimiter, kept in one Redis hash per key and
 * updated by one Lua script, so a read-refill-take is atomic across processes. Each key expires
 * once its bucket would be full again, so idle addresses cost Redis nothing.
 *
 * rate-limiter-flexible is not installed here; the script is twenty lines. Time is the caller's
 * clock (as in-process), so the processes' clocks should agree to well under a refill interval.
 * If Redis fails, the process's own bucket answers (logged once per outage): a limit per process
 * is weaker than a shared one but far better than none, and never locks everyone out.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.ts';
import { KeyedRateLimiter, type RateLimit, type RateLimiter, type Taken } from './rate-limit.ts';

// KEYS[1] bucket; ARGV: burst, perMinute, now (ms), take (1) or peek (0).
// Returns -1 when a token is (or was) there, else the milliseconds until one is.
const BUCKET = `
local burst = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2]) / 60000
local now = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * perMs) end
local answer
if tokens >= 1 then
  if ARGV[4] == '1' then tokens = tokens - 1 end
  answer = -1
elseif perMs > 0 then
  answer = math.ceil((1 - tokens) / perMs)
else
  answer = 60000
end
if ARGV[4] == '1' or b[1] then
  redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(math.max(now, at)))
  local ttl = 86400000
  if perMs > 0 then ttl = math.ceil((burst - tokens) / perMs) + 1000 end
  redis.call('PEXPIRE', KEYS[1], math.max(1000, math.min(ttl, 86400000)))
end
return answer
`;

export class RedisRateLimiter implements RateLimiter {
  private readonly local: KeyedRateLimiter;
  private failing = false;

  /** `name` separates the buckets of different limits (joins, auth failures). */
  constructor(
    private readonly redis: Redis,
    private readonly name: string,
    private readonly limit: RateLimit,
    private readonly clock: Clock,
    private readonly log: (msg: string) => void = () => {},
  ) {
    this.local = new KeyedRateLimiter(limit, clock);
  }

  private async run(key: string, take: boolean): Promise<Taken> {
    try {
      const ms = (await this.redis.eval(
        BUCKET,
        1,
        `gridtab:limit:${this.name}:${key}`,
        this.limit.burst,
        this.limit.perMinute,
        this.clock.now(),
        take ? 1 : 0,
      )) as number;
      if (this.failing) this.log(`rate limit '${this.name}' is shared through Redis again`);
      this.failing = false;
      return ms < 0 ? { ok: true } : { ok: false, retryAfterMs: ms };
    } catch (e) {
      if (!this.failing)
        this.log(`rate limit '${this.name}': Redis failed (${(e as Error).message}); limiting per process`);
      this.failing = true;
      return take ? this.local.take(key) : this.local.peek(key);
    }
  }

  take(key: string): Promise<Taken> {
    return this.run(key, true);
  }

  peek(key: string): Promise<Taken> {
    return this.run(key, false);
  }

  sweep(): void {
    this.local.sweep();
  }
}
