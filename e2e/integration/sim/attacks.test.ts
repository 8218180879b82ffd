/**
 * Robust aggregation against hostile updates, through the harness: four jobs on one coordinator
 * trained by the same contributors, one clean and three where the first unit of every round (20%
 * of the updates) is a scaled sign flip (-10x, inside the norm bound, so validation lets it
 * through). Plain averaging is dragged off; trimmed mean and centered clipping stay near the
 * clean run. Accuracies are compared with the clean run of the same test, not with constants.
 */

import { type SimContributor, simContributor, unitIndex } from '@gridtab/client/sim';
import { addJob, startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import type { AggregationSpec } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';

describe('fault and attack harness: attacks', () => {
  let co: TestCoordinator | null = null;
  let sims: SimContributor[] = [];
  afterEach(async () => {
    for (const s of sims) await s.contributor.stop();
    sims = [];
    await co?.destroy();
    co = null;
  });

  it('robust rules hold against 20% scaled sign-flip updates where the mean does not', async () => {
    co = await startTestCoordinator();
    const rounds = { unitsPerRound: 5, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 };
    const stopping = { maxRounds: 4 };
    const make = (name: string, aggregation: AggregationSpec) =>
      addJob(co!, { name, aggregation, rounds, stopping });
    const clean = await make('clean', { rule: 'mean' });
    const attacked = {
      mean: await make('mean', { rule: 'mean' }),
      trimmed: await make('trimmed', { rule: 'trimmed-mean', trim: 0.2 }),
      clip: await make('clip', { rule: 'centered-clip', iterations: 3 }),
    };
    const attackedIds = new Set(Object.values(attacked).map((j) => j.id));
    const url = co.url;
    sims = [0, 1, 2].map(() =>
      simContributor({
        coordinatorUrl: url,
        attack: 'scaled',
        attackOptions: { scale: -10 },
        hostile: (unit) => attackedIds.has(unit.jobId) && unitIndex(unit) === 0,
      }),
    );
    await Promise.all(sims.map((s) => s.contributor.start()));
    const accuracy = async (id: string) => {
      await expect
        .poll(async () => (await co!.store.getJob(id))!.status, { timeout: 150_000, interval: 250 })
        .toBe('completed');
      return (await co!.store.listVersions(id)).at(-1)!.metrics.testAccuracy!;
    };
    const base = await accuracy(clean.id);
    const mean = await accuracy(attacked.mean.id);
    const trimmed = await accuracy(attacked.trimmed.id);
    const clip = await accuracy(attacked.clip.id);
    // Every hostile update was accepted: this is about aggregation, not validation.
    const hostile = sims.flatMap((s) => s.attacked);
    expect(hostile.length).toBe(3 * 4);
    expect(hostile.every((a) => a === 'ok')).toBe(true);
    expect(base).toBeGreaterThan(0.3); // the clean run learns (random guessing is 0.1)
    expect(mean).toBeLessThan(base - 0.15);
    expect(trimmed).toBeGreaterThan(base - 0.1);
    expect(clip).toBeGreaterThan(base - 0.1);
    console.info(
      `accuracy clean ${base}, attacked: mean ${mean}, trimmed mean ${trimmed}, centered clip ${clip}`,
    );
  }, 200_000);
});
