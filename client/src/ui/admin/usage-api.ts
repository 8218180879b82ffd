/**
 * The console's reads of usage accounting (GET /api/usage): lines summed by day or by job, and
 * the storage the coordinator holds. The bearer is sent though the routes are readable without
 * it, so a coordinator that closes them later keeps working here.
 */
import type { BudgetStatus, JobView } from '@gridtab/shared';

export interface UsageLine {
  key: string;
  gpuMs: number;
  cpuDeviceMs: number;
  samples: number;
  units: number;
  bytesDown: number;
  bytesUp: number;
  coordinatorCpuMs: number;
  deviceHours: number;
}

export interface UsageReport {
  group: 'day' | 'job' | 'contributor';
  lines: UsageLine[];
  storageBytes: number;
  storageQuotaBytes: number | null;
}

export async function getUsage(
  baseUrl: string,
  bearer: string,
  group: UsageReport['group'],
): Promise<UsageReport> {
  const res = await fetch(`${baseUrl}/api/usage?group=${group}`, {
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `GET /api/usage answered ${res.status}`);
  return body as UsageReport;
}

/** Each job's budget status (GET /api/jobs), for jobs that declare a budget. */
export async function getBudgets(baseUrl: string, bearer: string): Promise<Map<string, BudgetStatus>> {
  const res = await fetch(`${baseUrl}/api/jobs`, {
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
  if (!res.ok) throw new Error(`GET /api/jobs answered ${res.status}`);
  const jobs = (await res.json()) as JobView[];
  return new Map(jobs.flatMap((j) => (j.budget ? [[j.id, j.budget] as const] : [])));
}

/** A UTC day (YYYY-MM-DD) as uPlot's time value: seconds since the epoch at its midnight. */
export const daySeconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}
