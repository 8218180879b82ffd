/**
 * A token bucket: up to `burst` messages at once, then `perSecond` on average. Time comes from
 * the coordinator's clock, so tests move it instead of sleeping.
 */
import type { Clock } from '../clock.ts';

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly clock: Clock,
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
    this.at = clock.now();
  }

  /** Takes one token; false when the bucket is empty (the message is refused, not queued). */
  take(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
