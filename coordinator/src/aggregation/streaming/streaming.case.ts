/**
 * Cases every RoundAccumulator must pass against its batch rule: the same updates, folded one by
 * one, must give the batch Aggregator's result bit for bit (toEqual on the arrays, not closeTo).
 * The shapes are chosen to cross every boundary of the streaming code: lengths that are not a
 * multiple of the SIMD step, worker ranges, write blocks (W) or read blocks; several spill
 * segments; ties, signed zeros and even counts for the coordinate-wise rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregationContext, Aggregator, WeightedUpdate } from '../aggregator.ts';
import type { RoundAccumulator } from './accumulator.ts';
import { AggregationPool } from './pool.ts';
import type { SpillingOptions } from './spilling.ts';

export type MakeAccumulator = (
  pool: AggregationPool,
  length: number,
  options: SpillingOptions,
) => RoundAccumulator;

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function updates(count: number, length: number, seed: number): WeightedUpdate[] {
  const r = random(seed);
  return Array.from({ length: count }, () => ({
    delta: Float32Array.from({ length }, () => (r() - 0.5) * 2 ** Math.floor(r() * 8 - 4)),
    numSamples: 1 + Math.floor(r() * 500),
  }));
}

export async function streamed(
  acc: RoundAccumulator,
  base: Float32Array,
  ups: WeightedUpdate[],
  context?: AggregationContext,
): Promise<Float32Array> {
  try {
    // Not awaited one by one: folds must keep call order by themselves.
    await Promise.all(ups.map((u) => acc.fold(u)));
    return await acc.finish(base, context);
  } finally {
    await acc.close();
  }
}

/** Small buffers and blocks, so a few hundred values cross segments and blocks. */
const tight: SpillingOptions = { bufferBytes: 3 * 4 * 1001, blockWidth: 16, blockBytes: 7 * 4 * 64 };

export function streamingSuite(batch: () => Aggregator, make: MakeAccumulator) {
  describe(`streaming ${batch().name} matches the batch rule`, () => {
    let pool: AggregationPool;
    beforeAll(() => {
      pool = new AggregationPool(3);
    });
    afterAll(() => pool.close());

    const same = async (
      ups: WeightedUpdate[],
      base: Float32Array,
      options = tight,
      context?: AggregationContext,
    ) => {
      const expected = batch().aggregate(base, ups, context);
      const got = await streamed(make(pool, base.length, options), base, ups, context);
      expect(Array.from(got)).toEqual(Array.from(expected));
    };

    it('bit for bit on random updates across blocks, segments and worker ranges', async () => {
      const n = 1001;
      const base = updates(1, n, 1)[0].delta;
      await same(updates(7, n, 2), base);
      await same(updates(8, n, 3), base);
      await same(updates(7, n, 4), base, {}); // default sizes: one segment, one block
    });

    it('with one update, and on a model shorter than a SIMD step', async () => {
      await same(updates(1, 1001, 5), new Float32Array(1001));
      await same(updates(3, 3, 6), Float32Array.of(1, -2, 0.5));
    });

    it('with ties, signed zeros and values of very different scale', async () => {
      const col = [0, -0, 1e-30, -1e30, 3, 3, -0, 1e30];
      const ups = col.map((v, k) => ({ delta: Float32Array.of(v, -v, k, v * k), numSamples: k + 1 }));
      await same(ups, Float32Array.of(0, 0, 1, -1));
      await same(ups.slice(1), Float32Array.of(0, 0, 1, -1));
    });

    it('with the history context a momentum rule reads, usable or not', async () => {
      const n = 203;
      const ups = updates(6, n, 7);
      const base = updates(1, n, 8)[0].delta;
      await same(ups, base, tight, { previousStep: updates(1, n, 9)[0].delta });
      await same(ups, base, tight, { previousStep: Float32Array.of(1) });
      const nan = updates(1, n, 10)[0].delta;
      nan[5] = Number.NaN;
      await same(ups, base, tight, { previousStep: nan });
    });

    it('refuses an update of the wrong length and a round with no update', async () => {
      const acc = make(pool, 4, tight);
      await expect(acc.fold({ delta: new Float32Array(3), numSamples: 1 })).rejects.toThrow(/3 values/);
      await expect(acc.finish(new Float32Array(4))).rejects.toThrow(/at least one update/);
      await acc.close();
    });
  });
}
