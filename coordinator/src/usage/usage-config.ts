/**
 * Usage, budget and retention settings from the environment (GRIDTAB_USAGE_*, GRIDTAB_PRICES,
 * GRIDTAB_STORAGE_QUOTA_BYTES, GRIDTAB_RETAIN_*). A bad value stops the coordinator at start
 * with the variable's name rather than running with a silently different policy.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { VersionPolicy } from './version-retention.ts';

const price = z.number().min(0);
/**
 * Prices in one currency: device-hours by backend class (gpu: webgpu/webgl, cpu: wasm/cpu),
 * per GB moved, per GB-month stored; `cloudGpuHour` is what a rented cloud GPU costs an hour,
 * for the cloud equivalent of the donated GPU time.
 */
export const priceTableSchema = z
  .object({
    currency: z.string().min(1).max(8).default('USD'),
    gpuHour: price.default(0),
    cpuHour: price.default(0),
    gbTransferred: price.default(0),
    gbMonthStored: price.default(0),
    cloudGpuHour: price.default(0),
  })
  .strict();
export type PriceTable = z.output<typeof priceTableSchema>;

export type RetainUpdates = 'keep' | 'after-commit';

export interface UsageConfig {
  /** False (GRIDTAB_USAGE_METER=off): no accounting and so no budgets; for overhead measurement. */
  meter: boolean;
  /** How often metered usage is written to the store: at most this much is lost in a crash. */
  flushMs: number;
  /** Bytes the blob store may hold; null = no quota. */
  storageQuotaBytes: number | null;
  prices: PriceTable | null;
  /** `after-commit`: update blobs are collected once their version is settled (see retention.ts). */
  retainUpdates: RetainUpdates;
  /** Rounds an update blob outlives the version that used it. */
  retainGraceRounds: number;
  /** How often retention and garbage collection run. */
  gcIntervalMs: number;
  /** Version pruning (version-retention.ts); null = off, every version's weights kept. */
  versionRetention: VersionPolicy | null;
}

export const USAGE_ENV: [string, string][] = [
  [
    'GRIDTAB_USAGE_METER',
    'on | off: off meters nothing, so budgets never trip; only to measure the accounting overhead (default on)',
  ],
  ['GRIDTAB_USAGE_FLUSH_MS', 'how often usage counters are written to the store (default 1000)'],
  ['GRIDTAB_PRICES', 'price table as JSON, or @path to a JSON file (gpuHour, cpuHour, gbTransferred, ...)'],
  [
    'GRIDTAB_STORAGE_QUOTA_BYTES',
    'blob storage quota; new jobs and imports are refused past it (default none)',
  ],
  ['GRIDTAB_RETAIN_UPDATES', 'keep | after-commit: update blobs deleted once settled (default after-commit)'],
  ['GRIDTAB_RETAIN_GRACE_ROUNDS', 'rounds an update blob is kept after its version (default 2)'],
  ['GRIDTAB_GC_INTERVAL_MS', 'period of retention and blob garbage collection (default 60000)'],
  [
    'GRIDTAB_VERSION_RETENTION',
    'off | last:N: prune the weights of versions past the last N per job, except aliased, head, best, origin, in-use and sweep versions (default off)',
  ],
];

/** `off` (or unset) or `last:N` with N >= 1. */
function versionPolicyFrom(value: string | undefined): VersionPolicy | null {
  if (!value || value === 'off') return null;
  const m = /^last:(\d+)$/.exec(value);
  const keepLast = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(keepLast) || keepLast < 1)
    throw new Error(`GRIDTAB_VERSION_RETENTION must be off or last:N with N >= 1, got '${value}'`);
  return { keepLast };
}

function count(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got '${value}'`);
  return n;
}

function pricesFrom(value: string | undefined): PriceTable | null {
  if (!value) return null;
  const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  const parsed = priceTableSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`GRIDTAB_PRICES: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

export function usageConfigFromEnv(env: NodeJS.ProcessEnv): UsageConfig {
  const retain = env.GRIDTAB_RETAIN_UPDATES || 'after-commit';
  if (retain !== 'keep' && retain !== 'after-commit')
    throw new Error(`GRIDTAB_RETAIN_UPDATES must be keep or after-commit, got '${retain}'`);
  const quota = env.GRIDTAB_STORAGE_QUOTA_BYTES;
  const meter = env.GRIDTAB_USAGE_METER || 'on';
  if (meter !== 'on' && meter !== 'off')
    throw new Error(`GRIDTAB_USAGE_METER must be on or off, got '${meter}'`);
  return {
    meter: meter === 'on',
    flushMs: Math.max(50, count(env.GRIDTAB_USAGE_FLUSH_MS, 1000, 'GRIDTAB_USAGE_FLUSH_MS')),
    storageQuotaBytes: quota ? count(quota, 0, 'GRIDTAB_STORAGE_QUOTA_BYTES') : null,
    prices: pricesFrom(env.GRIDTAB_PRICES),
    retainUpdates: retain,
    retainGraceRounds: count(env.GRIDTAB_RETAIN_GRACE_ROUNDS, 2, 'GRIDTAB_RETAIN_GRACE_ROUNDS'),
    gcIntervalMs: Math.max(100, count(env.GRIDTAB_GC_INTERVAL_MS, 60_000, 'GRIDTAB_GC_INTERVAL_MS')),
    versionRetention: versionPolicyFrom(env.GRIDTAB_VERSION_RETENTION),
  };
}
