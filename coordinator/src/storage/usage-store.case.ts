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

const hash = (c: string) => c.repeat(64);

export function usageCases(
  open: () => Store | Promise<Store>,
  createJob: (store: Store, id: string) => Promise<void>,
) {
  it('retention: released update blobs stop counting as referenced, only where no live row names them', async () => {
    const store = await open();
    await createJob(store, 'jret1');
    const update = (round: number, unit: string, blobHash: string) => ({
      id: `u-${round}-${unit}`,
      jobId: 'jret1',
      round,
      unitId: unit,
      contributorId: 'c1',
      baseVersionId: 'jret1-v0',
      numSamples: 10,
      loss: 1,
      blobHash,
      createdAt: '2026-01-01T00:00:00Z',
    });
    await store.insertUpdate(update(1, 'a', hash('1')));
    await store.insertUpdate(update(1, 'b', hash('2')));
    await store.insertUpdate(update(2, 'a', hash('2'))); // same bytes in a later round
    await store.insertUpdate(update(3, 'a', hash('3')));
    expect(await store.usage.heldUpdateBlobs('jret1')).toEqual([hash('1'), hash('2'), hash('3')]);
    expect(await store.usage.releaseUpdateBlobs('jret1', 1)).toBe(2);
    expect(await store.usage.releaseUpdateBlobs('jret1', 1)).toBe(0);
    expect(await store.usage.releasedBlobs(10)).toEqual([hash('1'), hash('2')]);
    expect(await store.usage.blobReferenced(hash('1'))).toBe(false);
    expect(await store.usage.blobReferenced(hash('2'))).toBe(true); // round 2 still holds it
    expect(await store.usage.blobReferenced(hash('3'))).toBe(true);
    expect(await store.usage.blobReferenced(hash('a'))).toBe(true); // the job's initial version
    await store.usage.markCollected(hash('1'));
    expect(await store.usage.releasedBlobs(10)).toEqual([hash('2')]);
    expect(await store.usage.heldUpdateBlobs('jret1')).toEqual([hash('2'), hash('3')]);
    // The rows stay for lineage.
    expect(await store.listUpdates('jret1', 1)).toHaveLength(2);
  });

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
