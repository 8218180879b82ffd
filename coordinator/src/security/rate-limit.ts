/**
 * Token buckets keyed by client address: joins per address, failed token guesses per address.
 * A bucket holds `burst` tokens and refills at `perMinute`; taking from an empty one says how
 * long until the next token. Buckets of idle keys are dropped once full again, and the map is
 * capped, so a flood of distinct addresses cannot grow memory without bound.
 */
import type { Clock } from '../clock.ts';

export interface RateLimit {
  /** Tokens a fresh key starts with (the burst a client may send at once). */
  burst: number;
  /** Tokens added per minute. */
  perMinute: number;
}

export type Taken = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * One bucket per key. In-process (KeyedRateLimiter) or shared by every process through Redis
 * (redis-rate-limit.ts); callers await either.
 */
export interface RateLimiter {
  /** Takes one token for `key`, or says how long until one is there. */
  take(key: string): Taken | Promise<Taken>;
  /** Whether `key` has a token now, without taking it. */
  peek(key: string): Taken | Promise<Taken>;
  /** Housekeeping once a minute (Redis keys expire by themselves). */
  sweep(): void;
}

/** Most keys tracked; past it the fullest (idlest) buckets are forgotten first. */
const MAX_KEYS = 100_000;

export class KeyedRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly clock: Clock,
  ) {}

  private refill(key: string) {
    const now = this.clock.now();
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) * this.limit.perMinute) / 60_000);
    b.at = now;
    return b;
  }

  /** Takes one token for `key`, or says how long until one is there. */
  take(key: string): Taken {
    const b = this.refill(key);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      this.store(key, b);
      return { ok: true };
    }
    this.store(key, b);
    const perMs = this.limit.perMinute / 60_000;
    return { ok: false, retryAfterMs: perMs > 0 ? Math.ceil((1 - b.tokens) / perMs) : 60_000 };
  }

  /** Whether `key` has a token now, without taking it. */
  peek(key: string): Taken {
    const b = this.refill(key);
    if (b.tokens >= 1) return { ok: true };
    const perMs = this.limit.perMinute / 60_000;
    return { ok: false, retryAfterMs: perMs > 0 ? Math.ceil((1 - b.tokens) / perMs) : 60_000 };
  }

  private store(key: string, b: { tokens: number; at: number }) {
    this.buckets.delete(key); // re-insert: Map order is then least recently used first
    this.buckets.set(key, b);
    if (this.buckets.size > MAX_KEYS) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }

  /** Drops buckets that have refilled completely (housekeeping). */
  sweep(): void {
    for (const key of [...this.buckets.keys()]) {
      if (this.refill(key).tokens >= this.limit.burst) this.buckets.delete(key);
    }
  }
}
