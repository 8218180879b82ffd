/**
 * Lease cases of the shared Store suite (called from store.case.ts): every Store runs them.
 */
import { expect, it } from 'vitest';
import type { LeaseRecord } from './lease-records.ts';
import type { Store } from './store.ts';

const lease = (id: string, jobId: string, round: number, deadline: number): LeaseRecord => ({
  leaseId: id,
  jobId,
  round,
  unitId: `${jobId}.r${round}.u0`,
  contributorId: 'c1',
  deadline,
  issuedAt: deadline - 30_000,
  baseVersionId: `${jobId}-v${round - 1}`,
  baseRound: round - 1,
  unit: null,
});

export function leaseCases(open: () => Store | Promise<Store>) {
  it('leases: kept with their times exact, listed per job, pruned by round and by deadline', async () => {
    const store = await open();
    // Past 2^31 ms: epoch milliseconds need 64 bits on both engines.
    const t = Date.UTC(2026, 0, 1);
    const unit = {
      unitId: 'jl1.r1.u0',
      leaseId: 'l1',
      jobId: 'jl1',
      round: 1,
      baseVersionId: 'jl1-v0',
      baseWeightsHash: 'a'.repeat(64),
      datasetId: 'd',
      shardHashes: ['b'.repeat(64)],
      batchSize: 32,
      localSteps: 10,
      learningRate: 0.01,
      optimizer: 'sgd',
      seed: 7,
      codec: { name: 'fp32' },
      deadline: t,
    } as unknown as LeaseRecord['unit'];
    await store.leases.put({ ...lease('l1', 'jl1', 1, t), unit });
    await store.leases.put(lease('l2', 'jl1', 2, t + 1000));
    await store.leases.put(lease('l3', 'jl2', 1, t + 5000));
    expect(await store.leases.get('l1')).toEqual({ ...lease('l1', 'jl1', 1, t), unit });
    expect(await store.leases.get('nope')).toBeNull();
    expect((await store.leases.ofJob('jl1')).map((l) => l.leaseId)).toEqual(['l1', 'l2']);

    expect(await store.leases.prune('jl1', 2)).toBe(1);
    expect((await store.leases.ofJob('jl1')).map((l) => l.leaseId)).toEqual(['l2']);
    expect(await store.leases.sweep(t + 2000)).toBe(1); // l2; l3's deadline is later
    expect(await store.leases.ofJob('jl1')).toEqual([]);
    await store.leases.delete('l3');
    expect(await store.leases.get('l3')).toBeNull();
    await store.leases.put(lease('l4', 'jl2', 1, t));
    await store.leases.deleteJob('jl2');
    expect(await store.leases.ofJob('jl2')).toEqual([]);
  });
  it('leases: many written in one statement read back exactly as one at a time', async () => {
    const store = await open();
    const t = Date.UTC(2026, 0, 2);
    const many = Array.from({ length: 7 }, (_, k) => lease(`m${k}`, 'jm1', 3, t + k));
    const unit = { unitId: 'jm1.r3.u0', leaseId: 'm0', jobId: 'jm1' } as unknown as LeaseRecord['unit'];
    many[0] = { ...many[0], unit };
    await store.leases.putMany([]);
    await store.leases.putMany(many);
    expect(await store.leases.ofJob('jm1')).toEqual(many);
    expect(await store.leases.get('m0')).toEqual(many[0]);
    await store.leases.deleteJob('jm1');
  });
}
