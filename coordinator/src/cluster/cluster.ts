/**
 * Several coordinator processes (REDIS_URL): socket.io's Redis adapter carries broadcasts
 * (job:version, alias moves) to the sockets of every process, and server-side events
 * (unit:available, kicks, job changes) between the processes; RedisOwnership gives each job one owner. Without REDIS_URL the process is alone: it owns every
 * job and broadcasts reach its own sockets only. The per-address limits (joins, failed tokens)
 * are Redis buckets shared by all processes, or the process's own without Redis.
 */
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Clock } from '../clock.ts';
import type { CoordinatorConfig } from '../config.ts';
import type { GridTabServer } from '../realtime/server.ts';
import type { LimiterFactory } from '../security/guard.ts';
import { KeyedRateLimiter } from '../security/rate-limit.ts';
import { RedisRateLimiter } from '../security/redis-rate-limit.ts';
import { JobBus } from './job-bus.ts';
import { type JobOwnership, LocalOwnership } from './ownership.ts';
import { RedisOwnership } from './redis-ownership.ts';

export interface Cluster {
  ownership: JobOwnership;
  /** Requests between processes about one job (job-bus.ts); null when alone. */
  bus: JobBus | null;
  /** The per-address rate limits: shared through Redis, or this process's own. */
  limiters(clock: Clock): LimiterFactory;
  /** Routes the server's broadcasts through Redis (no-op when alone). */
  attach(io: GridTabServer): void;
  close(): Promise<void>;
}

export function publicUrlOf(config: Pick<CoordinatorConfig, 'publicUrl' | 'port'>): string | null {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  return config.port ? `http://localhost:${config.port}` : null;
}

export async function connectCluster(
  config: Pick<CoordinatorConfig, 'redisUrl' | 'publicUrl' | 'port' | 'ownerTtlMs' | 'redisChannel'>,
  log: (msg: string, level?: 'warn') => void,
): Promise<Cluster> {
  if (!config.redisUrl) {
    return {
      ownership: new LocalOwnership(),
      bus: null,
      limiters: (clock) => (_, limit) => new KeyedRateLimiter(limit, clock),
      attach() {},
      async close() {},
    };
  }
  const commands = new Redis(config.redisUrl, { lazyConnect: true });
  await commands.connect();
  const pub = commands.duplicate();
  const sub = commands.duplicate();
  const ownership = new RedisOwnership(commands, publicUrlOf(config), config.ownerTtlMs, log);
  const busPub = commands.duplicate();
  const busSub = commands.duplicate();
  const bus = new JobBus(busPub, busSub, `${config.redisChannel}:jobs`, log);
  await bus.start();
  return {
    ownership,
    bus,
    // Buckets are per channel, like the adapter: deployments that share one Redis under
    // different GRIDTAB_REDIS_CHANNELs do not spend each other's per-address budgets.
    limiters: (clock) => (name, limit) =>
      new RedisRateLimiter(commands, `${config.redisChannel}:${name}`, limit, clock, log),
    attach(io) {
      io.adapter(createAdapter(pub, sub, { key: config.redisChannel }));
    },
    async close() {
      await ownership.close();
      await bus.close();
      await Promise.all(
        [commands, pub, sub, busPub, busSub].map((c) => c.quit().catch(() => c.disconnect())),
      );
    },
  };
}
