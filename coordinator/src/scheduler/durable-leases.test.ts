/**
 * Leases in the store (lease-log.ts), in one process: a coordinator restarted on the same store
 * takes over the leases the one before handed out, as a job's new owner does after a failover
 * (cluster/two-process.test.ts kills real processes). The unit in flight is accepted where it
 * arrives, is not handed out again while its lease lives, and is accepted once.
 */
import { createHash } from 'node:crypto';
import type { UpdateMeta, WorkUnit } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { createCoordinator, type RunningCoordinator } from '../app.ts';
import { ManualClock } from '../clock.ts';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';

const PARAMS = 101_770; // the MLP preset
const zeros = () => new Uint8Array(PARAMS * 4);

async function take(co: RunningCoordinator, who: string): Promise<WorkUnit> {
  const offer = await co.scheduler.requestUnit(who);
  if (!offer.unit) throw new Error('no unit offered');
  return offer.unit;
}

const submit = (co: RunningCoordinator, who: string, unit: WorkUnit, extra: Partial<UpdateMeta> = {}) => {
  const payload = zeros();
  const meta = { ...updateMetaFor(unit, payload), ...extra };
  meta.checksum = createHash('sha256').update(payload).digest('hex');
  return co.scheduler.submit(who, meta, payload);
};

describe('leases in the store', () => {
  let co: TestCoordinator | null = null;
  let again: RunningCoordinator | null = null;
  const clock = new ManualClock();
  afterEach(async () => {
    await again?.close();
    await co?.destroy();
    again = co = null;
  });

  /** Closes `co` as a crash would leave things (its leases in the store) and starts anew on its data. */
  const restart = async (first: TestCoordinator) => {
    await first.close();
    first.destroy = async () => first.close().catch(() => {});
    again = await createCoordinator({ ...first.config }, { log: () => {}, clock, durableLeases: true });
    return again;
  };

  it('a restarted coordinator accepts the units its predecessor leased, once each', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock, durableLeases: true });
    const job = await addJob(co, {
      rounds: { unitsPerRound: 3, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 },
    });
    const [a, b] = [await take(co, 'a'), await take(co, 'b')];
    expect((await co.store.leases.ofJob(job.id)).map((l) => l.leaseId).sort()).toEqual(
      [a.leaseId, b.leaseId].sort(),
    );
    const next = await restart(co);

    // Leased units are not handed out again: only the third one is free.
    const c = await take(next, 'c');
    expect([a.unitId, b.unitId]).not.toContain(c.unitId);
    expect((await next.scheduler.requestUnit('d')).unit).toBeNull();
    // The stored lease answers as the one in memory did: its own contributor only.
    await expect(submit(next, 'intruder', a)).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    await submit(next, 'a', a);
    await expect(submit(next, 'a', a)).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    await submit(next, 'b', b);
    await submit(next, 'c', c);
    await next.scheduler.idle();
    const versions = await next.store.listVersions(job.id);
    expect(versions.map((v) => v.round)).toEqual([0, 1]);
    expect(versions[1].unitIds.sort()).toEqual([a.unitId, b.unitId, c.unitId].sort());
    // Used leases leave the store.
    await expect.poll(async () => (await next.store.leases.ofJob(job.id)).length).toBe(0);
  });

  it('a lease past its deadline is late after the restart: its unit goes out again, the first result counts', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock, durableLeases: true });
    const job = await addJob(co, {
      rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 600_000, leaseMs: 1000 },
    });
    const a = await take(co, 'a');
    const next = await restart(co);
    clock.advance(a.deadline - clock.now() + 1);
    await next.scheduler.tick();
    const b = await take(next, 'b');
    expect(b.unitId).toBe(a.unitId);
    await submit(next, 'a', a); // the late one comes first: used
    await expect(submit(next, 'b', b)).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    await next.scheduler.idle();
    expect((await next.store.listUpdates(job.id, 1)).map((u) => u.contributorId)).toEqual(['a']);
  });

  it('a lease of a closed round is stale after the restart, not unknown', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock, durableLeases: true });
    const job = await addJob(co, {
      rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 600_000, leaseMs: 30_000 },
    });
    const [a, b] = [await take(co, 'a'), await take(co, 'b')];
    await submit(co, 'a', a);
    // Past the round's deadline with its quorum: it closes, and b's lease is retired.
    clock.advance(600_001);
    await co.scheduler.tick();
    await co.scheduler.idle();
    const next = await restart(co);
    await expect(submit(next, 'b', b)).rejects.toMatchObject({ code: 'STALE_VERSION' });
    expect((await next.store.listVersions(job.id)).map((v) => v.round)).toEqual([0, 1]);
  });

  it('a buffered job: the restarted coordinator holds the leased unit and accepts it', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock, durableLeases: true });
    const job = await addJob(co, { strategy: { name: 'buffered', bufferSize: 2 } });
    const [a, b] = [await take(co, 'a'), await take(co, 'b')];
    const next = await restart(co);
    const c = await take(next, 'c');
    expect([a.unitId, b.unitId]).not.toContain(c.unitId);
    await submit(next, 'b', b);
    await submit(next, 'a', a);
    await next.scheduler.idle();
    const versions = await next.store.listVersions(job.id);
    expect(versions.at(-1)?.unitIds.sort()).toEqual([a.unitId, b.unitId].sort());
  });
});
