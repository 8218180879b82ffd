/**
 * Job ownership in Redis: a process owns a job while it holds `gridtab:owner:<job>` (SET NX PX
 * with a short TTL), renewed every third of the TTL. A process that dies stops renewing; the key
 * lapses and another process's next claim (each scheduler tick tries the running jobs it does
 * not hold) takes the job over, rebuilding its open round from the store. A clean shutdown
 * deletes the keys so the takeover is immediate.
 *
 * The value is `<token> <public URL>`: the token (random per process) makes renew and release
 * compare-and-set, so a process never extends or deletes a key another one took; the URL is
 * where non-owners send contributors.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JobOwnership } from './ownership.ts';

const KEY = (jobId: string) => `gridtab:owner:${jobId}`;

// Extends the key only if it still holds our value.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export class RedisOwnership implements JobOwnership {
  readonly shared = true;
  private readonly token = randomUUID();
  private readonly value: string;
  private readonly owned = new Set<string>();
  private readonly listeners: ((jobId: string) => void)[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    readonly selfUrl: string | null,
    readonly ttlMs: number,
    private readonly log: (msg: string, level?: 'warn') => void = () => {},
  ) {
    this.value = `${this.token} ${selfUrl ?? ''}`;
    this.timer = setInterval(() => void this.renewAll(), Math.max(200, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  async claim(jobId: string): Promise<boolean> {
    const key = KEY(jobId);
    if (this.owned.has(jobId)) {
      if ((await this.redis.eval(RENEW, 1, key, this.value, this.ttlMs)) === 1) return true;
      this.lost(jobId);
      return false;
    }
    if ((await this.redis.set(key, this.value, 'PX', this.ttlMs, 'NX')) !== 'OK') return false;
    this.owned.add(jobId);
    this.log(`owner of job ${jobId}`);
    return true;
  }

  async ownerUrl(jobId: string): Promise<string | null> {
    const value = await this.redis.get(KEY(jobId));
    const url = value?.slice(value.indexOf(' ') + 1);
    return url ? url : null;
  }

  async release(jobId: string): Promise<void> {
    if (!this.owned.delete(jobId)) return;
    await this.redis.eval(RELEASE, 1, KEY(jobId), this.value);
  }

  onLost(listener: (jobId: string) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.owned].map((jobId) => this.release(jobId)));
  }

  private lost(jobId: string): void {
    if (!this.owned.delete(jobId)) return;
    this.log(`lost ownership of job ${jobId}`, 'warn');
    for (const l of this.listeners) l(jobId);
  }

  private async renewAll(): Promise<void> {
    for (const jobId of [...this.owned]) {
      try {
        const renewed = await this.redis.eval(RENEW, 1, KEY(jobId), this.value, this.ttlMs);
        if (renewed !== 1) this.lost(jobId);
      } catch (e) {
        // Redis unreachable: keep the job for now; if the key lapses meanwhile, the next
        // successful renewal finds it gone (or taken) and gives the job up.
        this.log(`renewing ownership of ${jobId} failed: ${(e as Error).message}`);
      }
    }
  }
}
