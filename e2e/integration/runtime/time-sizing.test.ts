/**
 * Units sized to time end to end: real Node contributors train a job with
 * `rounds.unitSizing: 'time'`. Once the job's tabs have accepted units, every unit carries a
 * training budget and twice the job's steps as its most; each update claims the whole steps it
 * trained within that range, and the coordinator's spot-check, run on every update, replays each
 * unit as the steps it claimed and agrees with it.
 */
import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import { addJob, startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import type { WorkUnit } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';

describe('units sized to time', () => {
  let co: TestCoordinator | null = null;
  let contributors: Contributor[] = [];
  afterEach(async () => {
    for (const c of contributors) await c.stop();
    contributors = [];
    await co?.destroy();
    co = null;
  });

  it('train for a budget, claim what they trained, and pass spot-checks replayed at that length', async () => {
    co = await startTestCoordinator();
    const job = await addJob(co, {
      rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000, unitSizing: 'time' },
      stopping: { maxRounds: 5 },
      spotChecks: { minRate: 1 },
    });
    const { batchSize, localSteps } = job.spec.hyperparameters;
    // The units handed out, as the tabs received them.
    const units: WorkUnit[] = [];
    const request = co.scheduler.requestUnit.bind(co.scheduler);
    co.scheduler.requestUnit = async (contributorId) => {
      const offer = await request(contributorId);
      if (offer.unit) units.push(offer.unit);
      return offer;
    };
    contributors = [0, 1].map(() => createNodeContributor({ coordinatorUrl: co!.url, benchmarkMs: 100 }));
    await Promise.all(contributors.map((c) => c.start()));
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 120_000, interval: 200 })
      .toBe('completed');
    await co.scheduler.idle();

    // Two rounds of fixed units measure the tabs; from the third, every unit has a budget.
    for (const unit of units) {
      if (unit.round <= 2) expect(unit.trainBudgetMs).toBeUndefined();
      else
        expect(unit).toMatchObject({
          trainBudgetMs: expect.any(Number),
          localSteps: 2 * localSteps,
          minSteps: Math.ceil(localSteps / 4),
        });
    }
    expect(units.some((u) => u.round >= 3)).toBe(true);
    // A unit handed out twice (a lapsed lease) has the same budget rule both times: the last is kept.
    const byUnit = new Map(units.map((u) => [u.unitId, u]));
    let timed = 0;
    for (const round of [1, 2, 3, 4, 5]) {
      const updates = await co.store.listUpdates(job.id, round);
      const checks = await co.store.reputation.listChecks(job.id, round);
      expect(checks).toHaveLength(updates.length);
      for (const check of checks) expect(check.passed, `spot-check in round ${round}`).toBe(true);
      for (const u of updates) {
        const unit = byUnit.get(u.unitId)!;
        expect(u.numSamples % batchSize).toBe(0);
        if (unit.trainBudgetMs === undefined) expect(u.numSamples).toBe(batchSize * localSteps);
        else {
          timed++;
          expect(u.numSamples).toBeGreaterThanOrEqual(batchSize * unit.minSteps!);
          expect(u.numSamples).toBeLessThanOrEqual(batchSize * unit.localSteps);
        }
      }
      const version = (await co.store.listVersions(job.id)).find((v) => v.round === round)!;
      expect(version.numSamples).toBe(updates.reduce((n, u) => n + u.numSamples, 0));
    }
    expect(timed).toBeGreaterThan(0);
  }, 180_000);
});
