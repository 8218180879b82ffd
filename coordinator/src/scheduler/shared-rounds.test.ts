/**
 * The owner's side of one job across processes (shared-rounds.ts), without processes: a round
 * stream adds other processes' partial sums of the mean and finishes within one float32 step of
 * the batch mean of all the updates; a partial it already folded (rebuilt after a takeover) is
 * left out; one that overlaps its folds, or a rule other than the mean, sends the version to
 * batch; and only mean-rule jobs with synchronous rounds and no spot-checks are shared.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobSpecSchema } from '@gridtab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightedMean } from '../aggregation/weighted-mean.ts';
import type { UpdateRecord } from '../storage/store.ts';
import { strategyFor } from '../strategies/index.ts';
import { TEST_JOB } from '../testing.ts';
import { shareable } from './shared-rounds.ts';
import { AggregationStreams, type CoveredUpdate } from './streaming.ts';

const N = 4099; // not a multiple of the SIMD width or of the worker ranges

const rec = (i: number): UpdateRecord => ({
  id: `u-${i}`,
  jobId: 'j',
  round: 1,
  unitId: `j.r1.u${i}`,
  contributorId: 'c',
  baseVersionId: 'v',
  numSamples: 7 + 13 * i,
  loss: 1,
  blobHash: `h${i}`,
  createdAt: '',
});
const covered = (i: number): CoveredUpdate => ({
  id: rec(i).id,
  blobHash: rec(i).blobHash,
  unitId: rec(i).unitId,
});
const deltas = Array.from({ length: 6 }, (_, i) =>
  Float32Array.from({ length: N }, (_, k) => Math.sin(k * 0.37 + i) * 0.01 * (i + 1)),
);
const base = Float32Array.from({ length: N }, (_, k) => Math.cos(k));
const spec = jobSpecSchema.parse(TEST_JOB);
const strategy = strategyFor('fedavg', { rule: 'mean' });

/** Largest distance between two arrays, in float32 steps of the second. */
function steps(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]) * 2 ** -23, 2 ** -149));
  return worst;
}

describe('partial sums of one round from several processes', () => {
  const root = join(tmpdir(), `gridtab-shared-${process.pid}-${Date.now()}`);
  const logs: string[] = [];
  const streams = new AggregationStreams({ spillRoot: root, log: (m) => logs.push(m) });
  beforeAll(() => streams.start());
  afterAll(async () => {
    await streams.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Another process's sum of updates `ids`. */
  const partialOf = async (ids: number[]) => {
    const mean = streams.mean(N);
    for (const i of ids) await mean.fold({ delta: deltas[i], numSamples: rec(i).numSamples });
    const part = await mean.partial();
    await mean.close();
    return part;
  };
  const ownStream = (ids: number[]) => {
    const s = streams.open(spec, strategy, N, 0)!;
    for (const i of ids) void s.fold(rec(i), deltas[i], 0);
    return s;
  };

  it('combines its own folds with two partial sums into the batch mean', async () => {
    const s = ownStream([0, 1]);
    s.addPartial(await partialOf([4, 5]), [4, 5].map(covered));
    s.addPartial(await partialOf([2, 3]), [2, 3].map(covered));
    const all = [0, 1, 2, 3, 4, 5];
    const step = await s.step(0, base, null, all.map(rec));
    await s.close();
    const batch = new WeightedMean().aggregate(
      base,
      all.map((i) => ({ delta: deltas[i], numSamples: rec(i).numSamples })),
    );
    expect(step).not.toBeNull();
    expect(steps(step!.weights, batch)).toBeLessThanOrEqual(1);
    expect(s.unitIds).toEqual([0, 1, 4, 5, 2, 3].map((i) => rec(i).unitId));
    expect(logs.at(-1)).toMatch(/2 folded here, 2 partial sums combined/);
  });

  it('finishes from partial sums alone (the owner stored none of the round)', async () => {
    const s = ownStream([]);
    s.addPartial(await partialOf([0, 1, 2]), [0, 1, 2].map(covered));
    const step = await s.step(0, base, null, [0, 1, 2].map(rec));
    await s.close();
    const batch = new WeightedMean().aggregate(
      base,
      [0, 1, 2].map((i) => ({ delta: deltas[i], numSamples: rec(i).numSamples })),
    );
    expect(steps(step!.weights, batch)).toBeLessThanOrEqual(1);
  });

  it('leaves out a sum it folded already, and goes to batch on an overlap or a missing update', async () => {
    // Rebuilt from the store after a takeover: the other process's updates are folded here.
    const rebuilt = ownStream([0, 1, 2]);
    rebuilt.addPartial(await partialOf([1, 2]), [1, 2].map(covered));
    const alone = ownStream([0, 1, 2]);
    const expected = await alone.step(0, base, null, [0, 1, 2].map(rec));
    expect((await rebuilt.step(0, base, null, [0, 1, 2].map(rec)))?.weights).toEqual(expected?.weights);
    for (const s of [rebuilt, alone]) await s.close();

    const overlap = ownStream([0, 1]);
    overlap.addPartial(await partialOf([1, 2]), [1, 2].map(covered));
    expect(await overlap.step(0, base, null, [0, 1, 2].map(rec))).toBeNull();
    await overlap.close();

    // A process that did not answer: its update 3 is stored but in no sum.
    const short = ownStream([0, 1]);
    short.addPartial(await partialOf([2]), [covered(2)]);
    expect(await short.step(0, base, null, [0, 1, 2, 3].map(rec))).toBeNull();
    await short.close();
  });

  it('takes partial sums for the mean only', async () => {
    const median = jobSpecSchema.parse({ ...TEST_JOB, aggregation: { rule: 'median' } });
    const s = streams.open(median, strategyFor('fedavg', { rule: 'median' }), N, 0)!;
    void s.fold(rec(0), deltas[0], 0);
    s.addPartial(await partialOf([1]), [covered(1)]);
    expect(await s.step(0, base, null, [0, 1].map(rec))).toBeNull();
    await s.close();
  });

  it('shares mean-rule jobs of synchronous rounds without spot-checks', () => {
    expect(shareable(spec)).toBe(true);
    expect(shareable(jobSpecSchema.parse({ ...TEST_JOB, aggregation: { rule: 'median' } }))).toBe(false);
    expect(shareable(jobSpecSchema.parse({ ...TEST_JOB, spotChecks: {} }))).toBe(false);
  });
});
