/**
 * Spending against budgets and prices: turns a job's usage counters (and the storage it holds,
 * and its age) into the quantities a budget limits, and a price table into an estimated cost.
 * Pure functions, so budgets and cost are tested on numbers alone.
 */
import { BUDGET_LIMITS, type Budget, type BudgetLimit, type BudgetStatus } from '@gridtab/shared';
import type { UsageCounters } from '../storage/usage-records.ts';
import type { PriceTable } from './usage-config.ts';

const GB = 1e9;
const HOUR_MS = 3_600_000;
/** A month of storage as cloud prices count it (30 days). */
const MONTH_MS = 30 * 24 * HOUR_MS;

export interface CostEstimate {
  currency: string;
  compute: number;
  transfer: number;
  storage: number;
  total: number;
  /** What the donated GPU hours would have cost on rented cloud GPUs. */
  cloudGpuEquivalent: number;
}

/** Cost of `usage`, with `storageBytes` held for `heldMs`. */
export function estimateCost(
  usage: UsageCounters,
  storageBytes: number,
  heldMs: number,
  prices: PriceTable,
): CostEstimate {
  const compute = (usage.gpuMs / HOUR_MS) * prices.gpuHour + (usage.cpuDeviceMs / HOUR_MS) * prices.cpuHour;
  const transfer = ((usage.bytesDown + usage.bytesUp) / GB) * prices.gbTransferred;
  const storage = (storageBytes / GB) * (heldMs / MONTH_MS) * prices.gbMonthStored;
  return {
    currency: prices.currency,
    compute,
    transfer,
    storage,
    total: compute + transfer + storage,
    cloudGpuEquivalent: (usage.gpuMs / HOUR_MS) * prices.cloudGpuHour,
  };
}

export interface Spending {
  usage: UsageCounters;
  storageBytes: number;
  /** Time since the job was created. */
  wallTimeMs: number;
  /** Null without a price table. */
  cost: CostEstimate | null;
}

export function spentOn(limit: BudgetLimit, s: Spending): number {
  switch (limit) {
    case 'deviceHours':
      return (s.usage.gpuMs + s.usage.cpuDeviceMs) / HOUR_MS;
    case 'samples':
      return s.usage.samples;
    case 'bytes':
      return s.usage.bytesDown + s.usage.bytesUp;
    case 'storageBytes':
      return s.storageBytes;
    case 'wallTimeMs':
      return s.wallTimeMs;
    case 'cost':
      return s.cost?.total ?? 0;
  }
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(4));

/** Where a job stands against its budget: a limit is reached when spent >= limit. */
export function budgetStatus(budget: Budget, s: Spending): BudgetStatus {
  const limits: BudgetStatus['limits'] = {};
  const reached: string[] = [];
  for (const key of BUDGET_LIMITS) {
    const limit = budget[key];
    if (limit === undefined) continue;
    const spent = spentOn(key, s);
    limits[key] = { spent, limit };
    if (spent >= limit) reached.push(`${key} ${fmt(spent)} of ${fmt(limit)}`);
  }
  return reached.length > 0
    ? { state: 'exceeded', reason: `budget reached: ${reached.join(', ')}`, limits }
    : { state: 'ok', reason: null, limits };
}

/** The highest alertAt fraction each limit has crossed (absent: none crossed). */
export function crossedFractions(budget: Budget, status: BudgetStatus): Partial<Record<BudgetLimit, number>> {
  const out: Partial<Record<BudgetLimit, number>> = {};
  for (const [key, v] of Object.entries(status.limits) as [BudgetLimit, { spent: number; limit: number }][]) {
    const crossed = budget.alertAt.filter((f) => v.spent >= f * v.limit);
    if (crossed.length > 0) out[key] = crossed[crossed.length - 1]!;
  }
  return out;
}
