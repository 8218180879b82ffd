/**
 * Usage reports: stored (and not yet flushed) counter rows summed by day, job or contributor,
 * with device-hours split by backend class. Pure, so grouping is tested on rows alone.
 */
import { COUNTERS, type UsageCounters, type UsageRow, zeroCounters } from '../storage/usage-records.ts';

export const USAGE_GROUPS = ['day', 'job', 'contributor'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageLine extends UsageCounters {
  /** The day, job id or contributor id ('' for what belongs to no contributor). */
  key: string;
  deviceHours: number;
}

const HOUR_MS = 3_600_000;

export function sum(rows: Iterable<UsageCounters>): UsageCounters {
  const total = zeroCounters();
  for (const r of rows) for (const k of COUNTERS) total[k] += r[k];
  return total;
}

export const deviceHours = (c: UsageCounters) => (c.gpuMs + c.cpuDeviceMs) / HOUR_MS;

/** Rows summed per `group` key, ordered by key. */
export function groupUsage(rows: UsageRow[], group: UsageGroup): UsageLine[] {
  const keyOf = (r: UsageRow) => (group === 'day' ? r.day : group === 'job' ? r.jobId : r.contributorId);
  const by = new Map<string, UsageRow[]>();
  for (const r of rows) {
    const key = keyOf(r);
    by.set(key, [...(by.get(key) ?? []), r]);
  }
  return [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, rs]) => {
      const total = sum(rs);
      return { key, ...total, deviceHours: deviceHours(total) };
    });
}

/** Keeps rows within the inclusive day range (pending rows are filtered like stored ones). */
export function inRange(rows: UsageRow[], q: { from?: string; to?: string; jobId?: string }): UsageRow[] {
  return rows.filter(
    (r) => (!q.from || r.day >= q.from) && (!q.to || r.day <= q.to) && (!q.jobId || r.jobId === q.jobId),
  );
}
