import type { WorkUnit } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';

const PARAMS = 101_770; // the MLP preset

async function take(co: TestCoordinator, who: string): Promise<WorkUnit> {
  const offer = await co.scheduler.requestUnit(who);
  if (!offer.unit) throw new Error('no unit offered');
  return offer.unit;
}

const index = (u: WorkUnit) => Number(u.unitId.split('.u').pop());

async function deliver(co: TestCoordinator, who: string, unit: WorkUnit) {
  const payload = new Uint8Array(PARAMS * 4);
  await co.scheduler.submit(who, updateMetaFor(unit, payload), payload);
}

describe('shard prefetch hints', () => {
  let co: TestCoordinator;
  const clock = new ManualClock();
  afterEach(async () => co?.destroy());

  it("names the next round's shards in each offer, and offers that unit to the tab told to prefetch it", async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    await addJob(co, { rounds: { unitsPerRound: 4, quorum: 1, deadlineMs: 120_000, leaseMs: 60_000 } });
    const tabs = ['a', 'b', 'c'];
    // a takes two units of round 1 (over-provisioned: more units than tabs).
    const first = new Map<string, WorkUnit[]>();
    for (const who of [...tabs, 'a']) first.set(who, [...(first.get(who) ?? []), await take(co, who)]);
    const hinted = [...first.values()].flat();
    for (const u of hinted) expect(u.prefetchShardHashes?.length).toBe(u.shardHashes.length);
    for (const [who, units] of first) for (const u of units) await deliver(co, who, u);
    await co.scheduler.idle();
    // Round 2, asked for in another order: each tab gets the unit at the place it held in round 1
    // (every unit was delivered, so unit i of round 2 is the place after unit i of round 1), whose
    // shards it was told to prefetch.
    const second = new Map<string, number[]>();
    for (const who of ['c', 'a', 'b', 'a']) {
      const unit = await take(co, who);
      expect(unit.round).toBe(2);
      expect(first.get(who)!.map((u) => u.prefetchShardHashes)).toContainEqual(unit.shardHashes);
      second.set(who, [...(second.get(who) ?? []), index(unit)]);
    }
    for (const [who, units] of first) expect(second.get(who)!.sort()).toEqual(units.map(index).sort());
  });

  it('never holds work back for a hinted tab: a newcomer still gets a unit, the hinted tab another', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    await addJob(co, { rounds: { unitsPerRound: 3, quorum: 1, deadlineMs: 120_000, leaseMs: 60_000 } });
    const a = await take(co, 'a');
    const b = await take(co, 'b');
    const c = await take(co, 'c');
    for (const [who, u] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const)
      await deliver(co, who, u);
    await co.scheduler.idle();
    // Every unit of round 2 was hinted to someone; the newcomer gets one all the same.
    const fresh = await take(co, 'new');
    expect(fresh.round).toBe(2);
    const taken = new Set([fresh.unitId]);
    // b still gets its own place unless the newcomer took it; a gets a unit either way.
    const forB = await take(co, 'b');
    if (index(fresh) !== index(b)) expect(index(forB)).toBe(index(b));
    taken.add(forB.unitId);
    taken.add((await take(co, 'a')).unitId);
    expect(taken.size).toBe(3);
  });
});
