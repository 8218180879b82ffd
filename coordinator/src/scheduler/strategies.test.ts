/**
 * The scheduler under each strategy: buffered versions every K updates with staleness, late
 * results and restarts; DiLoCo's AdamW units and persisted outer momentum; leases that follow a
 * contributor's speed; and every shard in exactly one accepted aggregate per pass under churn.
 */
import { mulberry32, type WorkUnit } from '@gridtab/shared';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { strategyFor } from '../strategies/index.ts';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';
import { poolUnitIndex } from './pool.ts';
import { planShards, roundPositions } from './shard-plan.ts';

const PARAMS = 101_770; // the MLP preset

/** Takes a unit for each contributor, in order. */
async function takeAll(co: TestCoordinator, who: string[]): Promise<WorkUnit[]> {
  const units: WorkUnit[] = [];
  for (const w of who) units.push(await take(co, w));
  return units;
}

async function take(co: TestCoordinator, who: string): Promise<WorkUnit> {
  const offer = await co.scheduler.requestUnit(who);
  if (!offer.unit) throw new Error('no unit offered');
  return offer.unit;
}

function submit(co: TestCoordinator, who: string, unit: WorkUnit, payload = filled(0)) {
  return co.scheduler.submit(who, updateMetaFor(unit, payload), payload);
}

function filled(v: number): Uint8Array {
  return new Uint8Array(new Float32Array(PARAMS).fill(v).buffer);
}

const buffered = (extra: Record<string, number> = {}) => ({
  strategy: { name: 'buffered' as const, bufferSize: 2, maxStaleness: 2, stalenessExponent: 0.5, ...extra },
});

describe('scheduler strategies', () => {
  let co: TestCoordinator;
  const clock = new ManualClock();
  afterEach(async () => co?.destroy());

  it('buffered: a version every K accepted updates, each on whatever version it trained on', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, buffered());
    const [a, b, c] = await takeAll(co, ['a', 'b', 'c']);
    expect(new Set([a, b, c].map((u) => u.baseVersionId)).size).toBe(1);
    await submit(co, 'a', a, filled(0.01));
    await submit(co, 'b', b, filled(0.01));
    await co.scheduler.idle();
    const v1 = (await co.store.listVersions(job.id))[1];
    expect(v1.unitIds.sort()).toEqual([a.unitId, b.unitId].sort());
    const d = await take(co, 'd');
    expect(d.baseVersionId).toBe(v1.id);
    await submit(co, 'c', c, filled(0.01)); // one version stale
    await submit(co, 'd', d, filled(0.01));
    await co.scheduler.idle();
    const [v0, , v2] = await co.store.listVersions(job.id);
    expect(v2.unitIds.sort()).toEqual([c.unitId, d.unitId].sort());
    // c is one version stale: weight 2^-0.5; the mean of 0.01 and 0.01/sqrt(2), twice over.
    const w0 = bytesToFloat32((await co.blobs.get(v0.hash))!);
    const w2 = bytesToFloat32((await co.blobs.get(v2.hash))!);
    expect(w2[7] - w0[7]).toBeCloseTo(0.01 + (0.01 + 0.01 / Math.SQRT2) / 2, 5);
  });

  it('buffered: refuses an update past the staleness bound and hands its unit out again', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    await addJob(co, buffered({ bufferSize: 1, maxStaleness: 1 }));
    const old = await take(co, 'slow');
    for (const w of ['p', 'q']) {
      await submit(co, w, await take(co, w));
      await co.scheduler.idle();
    }
    await expect(submit(co, 'slow', old)).rejects.toMatchObject({ code: 'STALE_VERSION' });
    expect((await take(co, 'r')).unitId).toBe(old.unitId);
  });

  it('buffered: uses a late result unless another tab delivered the unit first', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, { ...buffered({ bufferSize: 10 }), rounds: { leaseMs: 2000 } });
    const late = await take(co, 'late');
    clock.advance(2001);
    await co.scheduler.tick();
    await submit(co, 'late', late);
    const lost = await take(co, 'lost');
    clock.advance(2001);
    await co.scheduler.tick();
    const again = await take(co, 'other');
    expect(again.unitId).toBe(lost.unitId);
    await submit(co, 'other', again);
    await expect(submit(co, 'lost', lost)).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    expect((await co.store.listUpdates(job.id, 1)).map((u) => u.contributorId)).toEqual(['late', 'other']);
  });

  it('fedavg: a late result counts while its round is open and nobody delivered the unit', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, { rounds: { leaseMs: 2000 } });
    const unit = await take(co, 'a');
    clock.advance(2001);
    await co.scheduler.tick();
    await submit(co, 'a', unit);
    expect((await co.store.listUpdates(job.id, 1)).map((u) => u.unitId)).toEqual([unit.unitId]);
    expect(co.scheduler.roundOf(job.id)?.units.find((u) => u.id === unit.unitId)?.status).toBe('done');
  });

  it('leases follow the measured speed: job leaseMs until two units are measured, margin x expected time after', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    await addJob(co, {
      ...buffered({ bufferSize: 10 }),
      rounds: { leaseMs: 30_000, leaseMargin: 3, leaseFloorMs: 1000 },
    });
    const first = await take(co, 'fast');
    expect(first.deadline - clock.now()).toBe(30_000);
    clock.advance(1000); // 320 samples in a second
    await submit(co, 'fast', first);
    const second = await take(co, 'fast');
    expect(second.deadline - clock.now()).toBe(30_000); // one unit does not shorten a lease
    clock.advance(1000);
    await submit(co, 'fast', second);
    expect((await take(co, 'fast')).deadline - clock.now()).toBe(3000);
    const slow = await take(co, 'slow');
    clock.advance(20_000);
    await submit(co, 'slow', slow);
    expect((await take(co, 'slow')).deadline - clock.now()).toBe(60_000); // one unit may lengthen it
    co.scheduler.reportSpeed('new', 3200);
    expect((await take(co, 'new')).deadline - clock.now()).toBe(30_000); // a report never shortens it
    co.scheduler.reportSpeed('weak', 4);
    expect((await take(co, 'weak')).deadline - clock.now()).toBe(240_000); // 3 x 80 s
  });

  it('buffered: rebuilds the pool after a restart; lost units are handed out again', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, buffered({ bufferSize: 3 }));
    const units = await takeAll(co, ['a', 'b', 'c', 'd']);
    await submit(co, 'b', units[1]);
    await submit(co, 'd', units[3]);
    await co.close();
    const { createCoordinator } = await import('../app.ts');
    const again = await createCoordinator({ ...co.config }, { log: () => {}, clock });
    try {
      const offered: WorkUnit[] = [];
      for (const w of ['p', 'q', 'r']) offered.push((await again.scheduler.requestUnit(w)).unit!);
      expect(offered.map((u) => u.unitId)).toEqual([units[0].unitId, units[2].unitId, `${job.id}.async.u4`]);
      expect(again.scheduler.poolOf(job.id)?.buffered).toBe(2);
      await again.scheduler.submit('p', updateMetaFor(offered[0], filled(0)), filled(0));
      await again.scheduler.idle();
      expect((await again.store.listVersions(job.id))[1].unitIds.sort()).toEqual(
        [units[0].unitId, units[1].unitId, units[3].unitId].sort(),
      );
    } finally {
      await again.close();
      co = { ...co, destroy: async () => {} } as TestCoordinator;
    }
  });

  it('buffered: under churn every shard lands in exactly one accepted aggregate per pass', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, {
      ...buffered({ bufferSize: 3, maxStaleness: 1 }),
      rounds: { leaseMs: 5000 },
      stopping: { maxRounds: 1000 },
    });
    const rand = mulberry32(7);
    const held = new Map<string, WorkUnit>();
    let refused = 0;
    // Tabs take units, deliver, deliver late, vanish (their leases run out) or hold on too long.
    for (let step = 0; step < 120; step++) {
      const who = `t${Math.floor(rand() * 6)}`;
      const unit = held.get(who);
      const r = rand();
      if (!unit) held.set(who, await take(co, who));
      else if (r < 0.6) {
        held.delete(who);
        await submit(co, who, unit).catch(() => refused++);
        await co.scheduler.idle();
      } else if (r < 0.75)
        held.delete(who); // vanished for good
      else {
        clock.advance(3000); // time passes; some leases run out
        await co.scheduler.tick();
      }
    }
    // Drain: one steady tab until no unit below the plan's front is left undone.
    const pool = co.scheduler.poolOf(job.id)!;
    for (let i = 0; i < 200 && pool.units.size > 0; i++) {
      clock.advance(6000);
      await co.scheduler.tick();
      await submit(co, 'steady', await take(co, 'steady')).catch(() => refused++);
      await co.scheduler.idle();
    }
    expect(pool.units.size).toBe(0);
    expect(refused).toBeGreaterThan(0); // the churn was real
    const versions = await co.store.listVersions(job.id);
    const accepted = [
      ...versions.flatMap((v) => v.unitIds),
      ...(await co.store.listUpdates(job.id, pool.round)).map((u) => u.unitId),
    ];
    expect(new Set(accepted).size).toBe(accepted.length);
    const indices = accepted.map(poolUnitIndex).sort((x, y) => x - y);
    expect(indices).toEqual(Array.from({ length: pool.next }, (_, i) => i));
    // Shards: each unit trains one of the 3 synthetic shards; each pass uses each shard once.
    const dataset = (await co.store.getDataset(job.spec.dataset))!;
    const passes = Math.floor(pool.next / dataset.shardHashes.length);
    expect(passes).toBeGreaterThan(3);
    const offered = new Map<number, string[]>();
    const plan = planShards(dataset.shardHashes.length, dataset.shardSize, 320, job.spec.seed);
    for (let g = 0; g < pool.next; g++)
      offered.set(
        g,
        plan.shardsFor(g).map((s) => dataset.shardHashes[s]),
      );
    for (let p = 0; p < passes; p++) {
      const shards = Array.from(
        { length: dataset.shardHashes.length },
        (_, j) => offered.get(p * dataset.shardHashes.length + j)!,
      ).flat();
      expect(shards.sort()).toEqual([...dataset.shardHashes].sort());
    }
  });

  it('fedavg: at quorum 0.6 and under churn every shard lands in exactly one aggregate per pass', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, {
      rounds: { unitsPerRound: 3, quorum: 0.6, leaseMs: 5000, deadlineMs: 10_000 },
      stopping: { maxRounds: 1000 },
    });
    const offered = new Map<string, string[]>();
    const offer = async (who: string) => {
      const unit = (await co.scheduler.requestUnit(who)).unit;
      if (unit) {
        // A unit handed out again (after a deadline) keeps its shards.
        expect(offered.get(unit.unitId) ?? unit.shardHashes).toEqual(unit.shardHashes);
        offered.set(unit.unitId, unit.shardHashes);
      }
      return unit;
    };
    const rand = mulberry32(11);
    const held = new Map<string, WorkUnit>();
    let refused = 0;
    // Rounds close at 2 of 3 units or at their deadline with fewer; tabs deliver, deliver late,
    // vanish or hold on too long.
    for (let step = 0; step < 150; step++) {
      const who = `t${Math.floor(rand() * 6)}`;
      const unit = held.get(who);
      const r = rand();
      if (!unit) {
        const got = await offer(who);
        if (got) held.set(who, got);
      } else if (r < 0.6) {
        held.delete(who);
        await submit(co, who, unit).catch(() => refused++);
        await co.scheduler.idle();
      } else if (r < 0.75) held.delete(who);
      else {
        clock.advance(3000);
        await co.scheduler.tick();
        await co.scheduler.idle();
      }
    }
    for (let i = 0; i < 30; i++) {
      const unit = await offer('steady');
      if (unit) await submit(co, 'steady', unit).catch(() => refused++);
      await co.scheduler.idle();
    }
    expect(refused).toBeGreaterThan(0);
    const versions = (await co.store.listVersions(job.id)).filter((v) => v.round > 0);
    // Some rounds closed before all their units were in: their shards had to come back later.
    expect(versions.some((v) => v.unitIds.length < 3)).toBe(true);
    const aggregated = new Map(versions.map((v) => [v.round, new Set(v.unitIds)]));
    const indexOf = (id: string) => Number(id.slice(id.lastIndexOf('.u') + 2));
    const delivered = (r: number) => new Set([...(aggregated.get(r) ?? [])].map(indexOf));
    const dataset = (await co.store.getDataset(job.spec.dataset))!;
    const plan = planShards(dataset.shardHashes.length, dataset.shardSize, 320, job.spec.seed);
    const positions: number[] = [];
    for (const v of versions) {
      const at = roundPositions(v.round, 3, delivered);
      for (const id of v.unitIds) {
        const p = at[indexOf(id)];
        // The scheduler handed out exactly the plan's shards at that position.
        expect(offered.get(id)).toEqual(plan.shardsFor(p).map((s) => dataset.shardHashes[s]));
        positions.push(p);
      }
    }
    // No position twice, and every position below the first missing one aggregated.
    expect(new Set(positions).size).toBe(positions.length);
    positions.sort((a, b) => a - b);
    let front = 0;
    while (positions[front] === front) front++;
    const n = dataset.shardHashes.length;
    const passes = Math.floor(front / n);
    expect(passes).toBeGreaterThanOrEqual(3);
    for (let p = 0; p < passes; p++) {
      const shards = Array.from({ length: n }, (_, j) => plan.shardsFor(p * n + j))
        .flat()
        .map((s) => dataset.shardHashes[s]);
      expect(shards.sort()).toEqual([...dataset.shardHashes].sort());
    }
  });

  it('fedavg: a round reopened after a restart has the same shards, carried ones included', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, { rounds: { unitsPerRound: 3, quorum: 0.6 } });
    const dataset = (await co.store.getDataset(job.spec.dataset))!;
    const plan = planShards(dataset.shardHashes.length, dataset.shardSize, 320, job.spec.seed);
    const shardsAt = (g: number) => plan.shardsFor(g).map((s) => dataset.shardHashes[s]);
    const first = await takeAll(co, ['a', 'b', 'c']);
    expect(first.map((u) => u.shardHashes)).toEqual([0, 1, 2].map(shardsAt));
    await submit(co, 'a', first[0]);
    await submit(co, 'c', first[2]); // the quorum: unit 1 is not in round 1's aggregate
    await co.scheduler.idle();
    const tabs = ['a', 'b', 'c'];
    const taken = await takeAll(co, tabs);
    // Which tab takes which unit follows the prefetch hints; the round's units, in order, are the point.
    const second = [...taken].sort((x, y) => x.unitId.localeCompare(y.unitId));
    expect(second.map((u) => u.shardHashes)).toEqual([1, 3, 4].map(shardsAt));
    await submit(co, tabs[taken.indexOf(second[1])], second[1]); // stored before the crash
    await co.close();
    const { createCoordinator } = await import('../app.ts');
    const again = await createCoordinator({ ...co.config }, { log: () => {}, clock });
    try {
      const round = again.scheduler.roundOf(job.id)!;
      expect(round.round).toBe(2);
      expect(round.units.map((u) => u.shardHashes)).toEqual(second.map((u) => u.shardHashes));
      expect(round.units.map((u) => u.status)).toEqual(['pending', 'done', 'pending']);
    } finally {
      await again.close();
      co = { ...co, destroy: async () => {} } as TestCoordinator;
    }
  });

  it('diloco: AdamW units, and the outer momentum persists with each version across a restart', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const spec = { name: 'diloco' as const, outerLearningRate: 0.5, outerMomentum: 0.8, weightDecay: 0.02 };
    const job = await addJob(co, { strategy: spec, rounds: { unitsPerRound: 2 } });
    const units = await takeAll(co, ['a', 'b']);
    expect(units[0]).toMatchObject({ optimizer: 'adamw', weightDecay: 0.02 });
    await submit(co, 'a', units[0], filled(0.01));
    await submit(co, 'b', units[1], filled(0.03));
    await co.scheduler.idle();
    const [v0, v1] = await co.store.listVersions(job.id);
    expect(v1.stateHash).toBeTruthy();
    await co.close();
    const { createCoordinator } = await import('../app.ts');
    const again = await createCoordinator({ ...co.config }, { log: () => {}, clock });
    try {
      const next: WorkUnit[] = [];
      for (const w of ['a', 'b']) next.push((await again.scheduler.requestUnit(w)).unit!);
      for (const u of next) {
        const payload = filled(0.02);
        await again.scheduler.submit(u === next[0] ? 'a' : 'b', updateMetaFor(u, payload), payload);
      }
      await again.scheduler.idle();
      const v2 = (await again.store.listVersions(job.id))[2];
      // The same two steps without a restart.
      const s = strategyFor(spec, { rule: 'mean' });
      const w0 = bytesToFloat32((await again.blobs.get(v0.hash))!);
      const d = (v: number) => ({ delta: new Float32Array(PARAMS).fill(v), numSamples: 320, staleness: 0 });
      const one = s.apply(w0, [d(0.01), d(0.03)], null);
      const two = s.apply(one.weights, [d(0.02), d(0.02)], one.state);
      const w2 = bytesToFloat32((await again.blobs.get(v2.hash))!);
      expect(Array.from(w2.subarray(0, 50))).toEqual(Array.from(two.weights.subarray(0, 50)));
      expect(w2[0] - w0[0]).toBeCloseTo(
        0.5 * (0.02 + 0.8 * 0.02) + 0.5 * (0.02 + 0.8 * (0.8 * 0.02 + 0.02)),
        5,
      );
    } finally {
      await again.close();
      co = { ...co, destroy: async () => {} } as TestCoordinator;
    }
  });
});
