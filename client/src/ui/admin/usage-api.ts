/**
 * The console's reads of usage accounting (GET /api/usage): lines summed by day or by job, and
 * the storage the coordinator holds. The bearer is sent though the routes are readable without
 * it, so a coordinator that closes them later keeps working here.
 */
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

/** A UTC day (YYYY-MM-DD) as uPlot's time value: seconds since the epoch at its midnight. */
export const daySeconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}
