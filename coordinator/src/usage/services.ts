/**
 * Usage accounting, budgets, the storage quota and retention, wired together for one
 * coordinator: the meter flushes every `flushMs`, retention collects every `gcIntervalMs`, and
 * every metered change of a job asks the guard to check its budget.
 */
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Store } from '../storage/store.ts';
import { BudgetGuard } from './guard.ts';
import { UsageMeter, usageMetrics } from './meter.ts';
import { Retention } from './retention.ts';
import { jobAdmission, StorageQuota } from './storage.ts';
import type { UsageConfig } from './usage-config.ts';

export interface UsageDeps {
  store: Store;
  blobs: BlobStore;
  clock: Clock;
  config: UsageConfig;
  registry: Registry;
  log: (msg: string) => void;
  setStatus: (jobId: string, status: 'paused' | 'cancelled') => Promise<unknown>;
}

export function createUsage(deps: UsageDeps) {
  const { store, blobs, clock, config, log } = deps;
  const metrics = usageMetrics(deps.registry);
  let guard: BudgetGuard | null = null;
  const meter = new UsageMeter({
    store,
    clock,
    metrics,
    log,
    enabled: config.meter,
    onUsage: (jobId, hasBudget) => guard?.request(jobId, hasBudget),
  });
  guard = new BudgetGuard({
    store,
    blobs,
    meter,
    clock,
    prices: config.prices,
    setStatus: deps.setStatus,
    log,
  });
  const quota = new StorageQuota(blobs, config.storageQuotaBytes);
  const retention = new Retention({
    store,
    blobs,
    log,
    policy: config.retainUpdates,
    graceRounds: config.retainGraceRounds,
    versions: config.versionRetention,
    now: () => new Date(clock.now()).toISOString(),
    metrics,
  });
  const timers: NodeJS.Timeout[] = [];
  return {
    meter,
    guard,
    quota,
    retention,
    prices: config.prices,
    /** New jobs: INVALID_BUDGET for a cost limit without prices, STORAGE_QUOTA past the quota. */
    admit: jobAdmission(quota, config.prices),
    start(): void {
      timers.push(setInterval(() => void meter.flush(), config.flushMs));
      timers.push(
        setInterval(
          () => void retention.collect().catch((e) => log(`retention failed: ${(e as Error).stack}`)),
          config.gcIntervalMs,
        ),
      );
    },
    /** Stops the timers and writes what is still metered. */
    async close(): Promise<void> {
      for (const t of timers) clearInterval(t);
      await guard.settled();
      await meter.flush();
    },
  };
}

export type Usage = ReturnType<typeof createUsage>;
