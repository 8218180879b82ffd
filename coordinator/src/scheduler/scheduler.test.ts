import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpdateMeta, WorkUnit } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { SqliteStore } from '../storage/sqlite-store.ts';
import type { Store } from '../storage/store.ts';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';

const PARAMS = 101_770; // the MLP preset

async function take(co: TestCoordinator, who: string): Promise<WorkUnit> {
  const offer = await co.scheduler.requestUnit(who);
  if (!offer.unit) throw new Error('no unit offered');
  return offer.unit;
}

/** The unit's update metadata, its checksum left for submit() to take from the payload it sends. */
const meta = (unit: WorkUnit, extra: Partial<UpdateMeta> = {}): UpdateMeta =>
  updateMetaFor(unit, new Uint8Array(0), { checksum: '', ...extra });

function submit(co: TestCoordinator, who: string, m: UpdateMeta, payload: Uint8Array) {
  const checksum = m.checksum || createHash('sha256').update(payload).digest('hex');
  return co.scheduler.submit(who, { ...m, checksum }, payload);
}

const zeros = () => new Uint8Array(PARAMS * 4);

/** A real store whose job and dataset reads are counted. */
function countingStore(path: string): { store: Store; reads: { getJob: number; getDataset: number } } {
  const inner = new SqliteStore(path);
  const reads = { getJob: 0, getDataset: 0 };
  const store = new Proxy(inner, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (key === 'getJob' || key === 'getDataset') reads[key]++;
        return value.apply(target, args);
      };
    },
  });
  return { store, reads };
}

describe('scheduler', () => {
  let co: TestCoordinator;
  const clock = new ManualClock();
  afterEach(async () => co?.destroy());

  it('hands each unit of a round out once and closes the round into a version', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co);
    const units: WorkUnit[] = [];
    for (const who of ['a', 'b', 'c']) units.push(await take(co, who));
    expect(new Set(units.map((u) => u.unitId)).size).toBe(3);
    expect((await co.scheduler.requestUnit('d')).unit).toBeNull();
    for (const [i, who] of ['a', 'b', 'c'].entries()) await submit(co, who, meta(units[i]), zeros());
    await co.scheduler.idle();
    const versions = await co.store.listVersions(job.id);
    expect(versions.map((v) => v.round)).toEqual([0, 1]);
    expect(versions[1].parentId).toBe(versions[0].id);
    expect(versions[1].unitIds.sort()).toEqual(units.map((u) => u.unitId).sort());
    // Zero deltas leave the random initial weights, so only that the version was evaluated is
    // certain: an accuracy in [0, 1] and a finite, positive test loss.
    expect(versions[1].metrics.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(versions[1].metrics.testAccuracy).toBeLessThanOrEqual(1);
    expect(versions[1].metrics.testLoss).toBeGreaterThan(0);
    expect(Number.isFinite(versions[1].metrics.testLoss)).toBe(true);
    expect(await co.store.getJob(job.id)).toMatchObject({ round: 2, versionId: versions[1].id });
    expect((await take(co, 'a')).baseVersionId).toBe(versions[1].id);
  });

  it("sizes each unit to its tab's measured speed when the job asks (unitSizing: speed)", async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, { rounds: { unitsPerRound: 2, quorum: 1, unitSizing: 'speed' } });
    const base = job.spec.hyperparameters.localSteps;
    for (let i = 0; i < 2; i++) {
      co.scheduler.speeds.measure('fast', 3000, 1000); // 3,000 samples/s
      co.scheduler.speeds.measure('slow', 1000, 1000); // 1,000
    }
    const first = await take(co, 'fast'); // no other tab of the job yet: the job's steps
    const slow = await take(co, 'slow'); // half the mean of 2,000 samples/s
    expect([first.localSteps, slow.localSteps]).toEqual([base, Math.round(base / 2)]);
    expect(await submit(co, 'fast', meta(first), zeros())).toMatchObject({ accepted: true });
    expect(await submit(co, 'slow', meta(slow), zeros())).toMatchObject({ accepted: true });
    await co.scheduler.idle();
    const fast = await take(co, 'fast');
    expect(fast.localSteps).toBe(Math.round(base * 1.5));
    // The bound on the samples an update claims is its own unit's, not the job's.
    const over = meta(fast, { numSamples: fast.batchSize * fast.localSteps + 1 });
    await expect(submit(co, 'fast', over, zeros())).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await submit(co, 'fast', meta(fast), zeros())).toMatchObject({ accepted: true });
    const updates = await co.store.listUpdates(job.id, 1);
    expect(updates.map((u) => u.numSamples).sort((a, b) => a - b)).toEqual(
      [slow, first].map((u) => u.batchSize * u.localSteps),
    );
  });

  it("gives every unit the same training time once the job's tabs are measured (unitSizing: time)", async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, { rounds: { unitsPerRound: 2, quorum: 1, unitSizing: 'time' } });
    const { localSteps: base, batchSize } = job.spec.hyperparameters;
    // Two rounds of fixed units; their updates report the time they trained.
    for (let round = 1; round <= 2; round++) {
      const fast = await take(co, 'fast');
      const slow = await take(co, 'slow');
      expect([fast.localSteps, fast.trainBudgetMs, slow.trainBudgetMs]).toEqual([base, undefined, undefined]);
      await submit(co, 'fast', meta(fast, { trainMs: 1000 }), zeros());
      await submit(co, 'slow', meta(slow, { trainMs: 3000 }), zeros());
      await co.scheduler.idle();
    }
    // Median speed: (1/1000 + 1/3000) / 2 of the job's samples a ms, so 1,500 ms for its steps.
    const fast = await take(co, 'fast');
    const slow = await take(co, 'slow');
    for (const unit of [fast, slow])
      expect(unit).toMatchObject({
        trainBudgetMs: 1500,
        localSteps: 2 * base,
        minSteps: Math.ceil(base / 4),
      });
    // Each update claims what it trained in that time, up to the unit's most.
    const over = meta(fast, { numSamples: batchSize * 2 * base + 1 });
    await expect(submit(co, 'fast', over, zeros())).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const claims = [Math.round(1.5 * base) * batchSize, Math.round(0.5 * base) * batchSize];
    await submit(co, 'fast', meta(fast, { numSamples: claims[0], trainMs: 1500 }), zeros());
    await submit(co, 'slow', meta(slow, { numSamples: claims[1], trainMs: 1500 }), zeros());
    await co.scheduler.idle();
    const updates = await co.store.listUpdates(job.id, 3);
    expect(updates.map((u) => u.numSamples).sort((a, b) => b - a)).toEqual(claims);
    expect((await co.store.listVersions(job.id)).at(-1)).toMatchObject({
      round: 3,
      numSamples: claims[0] + claims[1],
    });
  });

  it('gives an expired lease to another contributor; the first result in counts, the other is too late', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co);
    const slow = await take(co, 'slow');
    const late = await take(co, 'late');
    await take(co, 'y');
    expect((await co.scheduler.requestUnit('fast')).unit).toBeNull();
    clock.advance(job.spec.rounds.leaseMs + 1);
    await co.scheduler.tick();
    const retaken = await take(co, 'fast');
    expect(retaken.unitId).toBe(slow.unitId);
    const again = await take(co, 'other');
    expect(again.unitId).toBe(late.unitId);
    // The re-issued holder delivers first: the expired one is too late.
    await submit(co, 'fast', meta(retaken), zeros());
    await expect(submit(co, 'slow', meta(slow), zeros())).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    // The expired holder delivers first: its result counts and the re-issued lease is gone.
    await submit(co, 'late', meta(late), zeros());
    await expect(submit(co, 'other', meta(again), zeros())).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    const updates = await co.store.listUpdates(job.id, 1);
    const by = new Map(updates.map((u) => [u.unitId, u.contributorId]));
    expect(updates).toHaveLength(2);
    expect([by.get(slow.unitId), by.get(late.unitId)]).toEqual(['fast', 'late']);
  });

  it('uses a result past its deadline before any tick noticed it, and not a released one', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co);
    const unit = await take(co, 'a');
    const given = await take(co, 'b');
    clock.advance(job.spec.rounds.leaseMs + 1);
    await submit(co, 'a', meta(unit), zeros());
    await co.scheduler.tick();
    expect(co.scheduler.release('b', given.leaseId)).toBe(true);
    await expect(submit(co, 'b', meta(given), zeros())).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    expect((await co.store.listUpdates(job.id, 1)).map((u) => u.unitId)).toEqual([unit.unitId]);
  });

  it('refuses a late result once its round closed (STALE_VERSION)', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, { rounds: { unitsPerRound: 3, quorum: 0.6, leaseMs: 2000 } });
    const [a, b, c] = [await take(co, 'a'), await take(co, 'b'), await take(co, 'c')];
    clock.advance(2001);
    await co.scheduler.tick();
    await submit(co, 'a', meta(a), zeros());
    await submit(co, 'b', meta(b), zeros()); // 2 of 3: the quorum
    await co.scheduler.idle();
    await expect(submit(co, 'c', meta(c), zeros())).rejects.toMatchObject({ code: 'STALE_VERSION' });
    expect((await co.store.listVersions(job.id))[1].unitIds.sort()).toEqual([a.unitId, b.unitId].sort());
    expect(await co.store.listUpdates(job.id, 2)).toEqual([]);
  });

  it('closes a round at its deadline with the updates that arrived', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co);
    const unit = await take(co, 'a');
    await submit(co, 'a', meta(unit), zeros());
    clock.advance(job.spec.rounds.deadlineMs + 1);
    await co.scheduler.tick();
    await co.scheduler.idle();
    expect((await co.store.listVersions(job.id))[1].unitIds).toEqual([unit.unitId]);
  });

  it('refuses wrong, foreign, stale and duplicate updates and stores nothing', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co);
    const unit = await take(co, 'a');
    const refuse = (who: string, m: UpdateMeta, payload: Uint8Array) => submit(co, who, m, payload);
    await expect(refuse('b', meta(unit), zeros())).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    await expect(refuse('a', meta(unit, { baseVersionId: 'v-old' }), zeros())).rejects.toMatchObject({
      code: 'STALE_VERSION',
    });
    const unit2 = await take(co, 'a');
    await expect(refuse('a', meta(unit2), new Uint8Array(12))).rejects.toMatchObject({ code: 'WRONG_SHAPE' });
    const nan = new Float32Array(PARAMS);
    nan[5] = Number.NaN;
    await expect(refuse('a', meta(unit2), new Uint8Array(nan.buffer))).rejects.toMatchObject({
      code: 'NON_FINITE',
    });
    const huge = new Float32Array(PARAMS).fill(100);
    await expect(refuse('a', meta(unit2), new Uint8Array(huge.buffer))).rejects.toMatchObject({
      code: 'NORM_TOO_LARGE',
    });
    expect(await co.store.listUpdates(job.id, 1)).toEqual([]);
    await submit(co, 'a', meta(unit2), zeros());
    await expect(refuse('a', meta(unit2), zeros())).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    expect(await co.store.listUpdates(job.id, 1)).toHaveLength(1);
  });

  it('rebuilds the open round from the store after a restart', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co);
    const unit = await take(co, 'a');
    await submit(co, 'a', meta(unit), zeros());
    await co.close();
    const { createCoordinator } = await import('../app.ts');
    const again = await createCoordinator({ ...co.config }, { log: () => {}, clock });
    try {
      const round = again.scheduler.roundOf(job.id)!;
      expect(round.units.find((u) => u.id === unit.unitId)?.status).toBe('done');
      const offered: (string | undefined)[] = [];
      for (const w of ['p', 'q']) offered.push((await again.scheduler.requestUnit(w)).unit?.unitId);
      expect(offered).not.toContain(unit.unitId);
      expect((await again.scheduler.requestUnit('r')).unit).toBeNull();
    } finally {
      await again.close();
      co = { ...co, destroy: async () => {} } as TestCoordinator;
    }
  });

  it('pauses and resumes a job', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co);
    await co.scheduler.setStatus(job.id, 'paused');
    expect((await co.scheduler.requestUnit('a')).unit).toBeNull();
    await co.scheduler.setStatus(job.id, 'running');
    expect((await co.scheduler.requestUnit('a')).unit?.jobId).toBe(job.id);
    await co.scheduler.setStatus(job.id, 'cancelled');
    await expect(co.scheduler.setStatus(job.id, 'running')).rejects.toMatchObject({
      code: 'JOB_NOT_RUNNING',
    });
  });

  it('keeps a departed contributor’s lease late: its result counts if it comes first', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co);
    const [a, b, c] = [await take(co, 'a'), await take(co, 'b'), await take(co, 'c')];
    expect(co.scheduler.leave('a')).toBe(1);
    expect(co.scheduler.leave('b')).toBe(1);
    // Their units go out again at once.
    const [a2, b2] = [await take(co, 'x'), await take(co, 'y')];
    expect([a2.unitId, b2.unitId]).toEqual([a.unitId, b.unitId]);
    // 'a' comes back first: used, and the re-issued lease is too late.
    await submit(co, 'a', meta(a), zeros());
    await expect(submit(co, 'x', meta(a2), zeros())).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    // 'y' delivers before 'b' comes back: 'b' is too late.
    await submit(co, 'y', meta(b2), zeros());
    await expect(submit(co, 'b', meta(b), zeros())).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    // A kicked contributor's leases are forgotten for good.
    expect(co.scheduler.releaseAll('c')).toBe(1);
    await expect(submit(co, 'c', meta(c), zeros())).rejects.toMatchObject({ code: 'LEASE_UNKNOWN' });
    const by = new Map((await co.store.listUpdates(job.id, 1)).map((u) => [u.unitId, u.contributorId]));
    expect([...by.entries()].sort()).toEqual(
      [
        [a.unitId, 'a'],
        [b.unitId, 'y'],
      ].sort(),
    );
  });

  it('serves requests and submits of its own jobs without reading them from the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridtab-reads-'));
    const { store, reads } = countingStore(join(dir, 'gridtab.sqlite'));
    try {
      // The alert rules read jobs and versions on their own timer: off here, as the tick is.
      co = await startTestCoordinator({ tickMs: 1e9, alertTickMs: 1e9 }, { clock, store });
      const job = await addJob(co, {
        rounds: { unitsPerRound: 4, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 },
      });
      const pool = await addJob(co, {
        strategy: { name: 'buffered', bufferSize: 100, maxStaleness: 2, stalenessExponent: 0.5 },
      });
      reads.getJob = 0;
      const units: WorkUnit[] = [];
      // The first request reads each job once; from then on the scheduler knows them.
      for (const who of ['a', 'b']) units.push(await take(co, who));
      expect(reads.getJob).toBe(2);
      reads.getJob = 0;
      reads.getDataset = 0;
      for (const who of ['c', 'd']) units.push(await take(co, who));
      expect(new Set(units.map((u) => u.jobId))).toEqual(new Set([job.id, pool.id]));
      for (const [i, who] of ['a', 'b'].entries()) await submit(co, who, meta(units[i]), zeros());
      await co.scheduler.tick();
      expect(reads).toEqual({ getJob: 0, getDataset: 0 });
      expect(
        (await co.store.listUpdates(job.id, 1)).length + (await co.store.listUpdates(pool.id, 1)).length,
      ).toBe(2);

      // Paused, then cancelled: the next request and submit hear it at once.
      await co.scheduler.setStatus(job.id, 'paused');
      await co.scheduler.setStatus(pool.id, 'cancelled');
      expect((await co.scheduler.requestUnit('e')).unit).toBeNull();
      for (const [i, who] of ['c', 'd'].entries())
        await expect(submit(co, who, meta(units[i + 2]), zeros())).rejects.toMatchObject({
          code: 'JOB_NOT_RUNNING',
        });
      await co.scheduler.setStatus(job.id, 'running');
      reads.getJob = 0;
      expect((await take(co, 'e')).jobId).toBe(job.id);
      expect(reads.getJob).toBe(0);
      await co.scheduler.setStatus(job.id, 'cancelled');
      expect((await co.scheduler.requestUnit('f')).unit).toBeNull();
    } finally {
      await co.destroy();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
