/**
 * Usage cases of the shared Store suite (called from store.case.ts): every Store runs them.
 */
import { expect, it } from 'vitest';
import type { Store } from './store.ts';
import { type UsageRow, zeroCounters } from './usage-records.ts';

const row = (day: string, jobId: string, contributorId: string, over: Partial<UsageRow>): UsageRow => ({
  ...zeroCounters(),
  day,
  jobId,
  contributorId,
  ...over,
});

export function usageCases(open: () => Store | Promise<Store>) {
  it('usage: counters add up per day, job and contributor, and filter by day range and job', async () => {
    const store = await open();
    await store.usage.add([
      row('2026-02-01', 'ju1', 'c1', { samples: 100, units: 1, gpuMs: 1500.5, bytesUp: 4000 }),
      row('2026-02-01', 'ju1', '', { bytesDown: 9_000_000_000, coordinatorCpuMs: 3.25 }),
      row('2026-02-02', 'ju2', 'c1', { samples: 7, cpuDeviceMs: 10 }),
    ]);
    await store.usage.add([
      row('2026-02-01', 'ju1', 'c1', { samples: 50, units: 1, gpuMs: 0.5, bytesUp: 1 }),
    ]);
    const ju1 = await store.usage.list({ jobId: 'ju1' });
    expect(ju1).toEqual([
      row('2026-02-01', 'ju1', '', { bytesDown: 9_000_000_000, coordinatorCpuMs: 3.25 }),
      row('2026-02-01', 'ju1', 'c1', { samples: 150, units: 2, gpuMs: 1501, bytesUp: 4001 }),
    ]);
    expect((await store.usage.list({ from: '2026-02-02', to: '2026-02-02' })).map((r) => r.jobId)).toEqual([
      'ju2',
    ]);
    expect(await store.usage.list({ to: '2026-01-31' })).toEqual([]);
  });
}
