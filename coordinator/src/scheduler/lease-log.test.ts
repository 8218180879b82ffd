import { describe, expect, it } from 'vitest';
import type { LeaseRecord, LeaseStore } from '../storage/lease-records.ts';
import { LeaseLog } from './lease-log.ts';
import type { Lease } from './round.ts';

const lease = (k: number): Lease => ({
  leaseId: `l${k}`,
  jobId: 'j1',
  round: 1,
  unitId: `j1.r1.u${k}`,
  contributorId: 'c1',
  deadline: 1_000 + k,
  issuedAt: k,
  baseVersionId: 'v0',
  baseRound: 0,
});

/** A store whose writes finish only when the test says so, recording each statement's rows. */
function heldStore() {
  const writes: LeaseRecord[][] = [];
  const pending: (() => void)[] = [];
  const store = {
    putMany: (rows: LeaseRecord[]) => {
      writes.push(rows);
      return new Promise<void>((resolve) => pending.push(resolve));
    },
  } as unknown as LeaseStore;
  const release = () => {
    for (const go of pending.splice(0)) go();
  };
  return { store, writes, release };
}

describe('LeaseLog', () => {
  it('writes the leases asked for while a write is in flight together, in one statement, after it', async () => {
    const { store, writes, release } = heldStore();
    const log = new LeaseLog(store, () => {});
    const settled: string[] = [];
    const put = (k: number) => log.put(lease(k)).then(() => void settled.push(`l${k}`));
    const first = put(0);
    const rest = [1, 2, 3].map(put);
    expect(writes.map((w) => w.map((r) => r.leaseId))).toEqual([['l0']]);
    await Promise.resolve();
    expect(settled).toEqual([]); // nothing goes out before its row is written
    release();
    await first;
    expect(writes.map((w) => w.map((r) => r.leaseId))).toEqual([['l0'], ['l1', 'l2', 'l3']]);
    expect(settled).toEqual(['l0']);
    release();
    await Promise.all(rest);
    expect(settled).toEqual(['l0', 'l1', 'l2', 'l3']);
    // Idle again: the next lease is written at once, alone.
    const last = put(4);
    expect(writes.at(-1)!.map((r) => r.leaseId)).toEqual(['l4']);
    release();
    await last;
  });

  it('logs a failed write for each of its leases and still lets the units go out', async () => {
    const store = { putMany: async () => Promise.reject(new Error('store down')) } as unknown as LeaseStore;
    const logged: string[] = [];
    const log = new LeaseLog(store, (m) => logged.push(m));
    await Promise.all([log.put(lease(0)), log.put(lease(1)), log.put(lease(2))]);
    expect(logged).toHaveLength(3);
    expect(logged.every((m) => m.includes('not stored (store down)'))).toBe(true);
  });
});
