/** Every streaming rule against its batch rule (streaming.case.ts), then what only some promise. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CenteredClip } from '../centered-clip.ts';
import { Median } from '../median.ts';
import { TrimmedMean } from '../trimmed-mean.ts';
import { WeightedMean } from '../weighted-mean.ts';
import { accumulatorFor } from './index.ts';
import { combinePartials, finishPartial, StreamingMean } from './mean.ts';
import { AggregationPool, type PoolMessage } from './pool.ts';
import { StreamingCenteredClip, StreamingCoordinateWise } from './spilling.ts';
import { streamed, streamingSuite, updates } from './streaming.case.ts';

streamingSuite(
  () => new WeightedMean(),
  (pool, n) => new StreamingMean(pool, n, 2),
);
// The same cases through rings of two 16-value pieces: every update crosses them a piece at a
// time, the workers' ranges interleaved, the loop waiting for space (mean.ts).
streamingSuite(
  () => new WeightedMean(),
  (pool, n) => new StreamingMean(pool, n, { slots: 2, pieceValues: 16 }),
);
// And through a ring of six, where updates that wait together are staged three at a time, their
// pieces side by side (folded in one pass over the sum).
streamingSuite(
  () => new WeightedMean(),
  (pool, n) => new StreamingMean(pool, n, { slots: 6, pieceValues: 16, group: 3 }),
);
streamingSuite(
  () => new Median(),
  (pool, n, o) => new StreamingCoordinateWise('median', pool, n, 0, o),
);
streamingSuite(
  () => new TrimmedMean(0.2),
  (pool, n, o) => new StreamingCoordinateWise('trimmed-mean', pool, n, 0.2, o),
);
streamingSuite(
  () => new TrimmedMean(0),
  (pool, n, o) => new StreamingCoordinateWise('trimmed-mean', pool, n, 0, o),
);
streamingSuite(
  () => new CenteredClip(),
  (pool, n, o) => new StreamingCenteredClip(pool, n, undefined, 3, o),
);
streamingSuite(
  () => new CenteredClip(0.5, 1),
  (pool, n, o) => new StreamingCenteredClip(pool, n, 0.5, 1, o),
);

describe('streaming accumulators', () => {
  let pool: AggregationPool;
  let dir = '';
  beforeAll(() => {
    pool = new AggregationPool(2);
  });
  afterAll(() => pool.close());
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are built from the job spec, as the batch rules are', () => {
    const rules = [
      { rule: 'mean' },
      { rule: 'trimmed-mean', trim: 0.1 },
      { rule: 'median' },
      { rule: 'centered-clip', iterations: 2 },
    ] as const;
    expect(rules.map((spec) => accumulatorFor(spec, pool, 4).rule)).toEqual([
      'mean',
      'trimmed-mean',
      'median',
      'centered-clip',
    ]);
  });

  it('spill to a temp file past their buffer, and remove it on close', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridtab-spill-test-'));
    const acc = new StreamingCoordinateWise('median', pool, 100, 0, { dir, bufferBytes: 2 * 400 });
    for (const u of updates(5, 100, 11)) await acc.fold(u);
    const [spill] = readdirSync(dir);
    expect(readdirSync(join(dir, spill))).toEqual(['columns']);
    await acc.finish(new Float32Array(100));
    await acc.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('spilling rules: a burst past the queue goes to a queue file, and keeps the fold order', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridtab-spill-queue-test-'));
    const n = 100;
    const ups = updates(12, n, 19);
    const base = updates(1, n, 20)[0].delta;
    const expected = new CenteredClip().aggregate(base, ups);
    // Centered clipping adds updates in fold order, so a row read back out of turn would show.
    const acc = new StreamingCenteredClip(pool, n, undefined, 3, { dir, bufferBytes: 3 * 4 * n, queue: 2 });
    const inputs = ups.map((u) => ({ ...u, delta: u.delta.slice() }));
    const staged = inputs.map((u) => acc.fold(u).then(() => u.delta.fill(Number.NaN)));
    const { spill } = acc;
    expect(spill.peakQueued).toBe(2);
    expect(spill.queueSpilled).toBe(10);
    await Promise.all(staged);
    expect(Array.from(await acc.finish(base))).toEqual(Array.from(expected));
    await acc.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('mean: partial sums from several accumulators combine into the mean', async () => {
    const n = 517;
    const ups = updates(9, n, 12);
    // Dyadic values with few bits: every sum is exact, so any order gives the same bits.
    const exact = ups.map((u) => ({ ...u, delta: u.delta.map((v) => Math.round(v * 64) / 64) }));
    const base = updates(1, n, 13)[0].delta;
    const parts = await Promise.all(
      [exact.slice(0, 4), exact.slice(4)].map(async (share) => {
        const acc = new StreamingMean(pool, n);
        for (const u of share) await acc.fold(u);
        const part = await acc.partial();
        await acc.close();
        return part;
      }),
    );
    const combined = combinePartials(parts);
    expect(combined.count).toBe(9);
    expect(Array.from(finishPartial(base, combined))).toEqual(
      Array.from(new WeightedMean().aggregate(base, exact)),
    );
  });

  it("mean: the running sum is fedavg's float64 sum, bit for bit", async () => {
    const n = 1003;
    const ups = updates(5, n, 15);
    const acc = new StreamingMean(pool, n, 1);
    for (const u of ups) acc.fold(u);
    const part = await acc.partial();
    await acc.close();
    const reference = new Float64Array(n);
    for (const { delta, numSamples } of ups)
      for (let i = 0; i < n; i++) reference[i] += numSamples * delta[i];
    expect(Array.from(part.sum)).toEqual(Array.from(reference));
    expect(part.totalSamples).toBe(ups.reduce((t, u) => t + u.numSamples, 0));
  });

  it('mean: depends on the fold order only through float64 rounding', async () => {
    const n = 2000;
    const ups = updates(12, n, 14);
    const base = new Float32Array(n);
    const forward = await streamed(new StreamingMean(pool, n), base, ups);
    const backward = await streamed(new StreamingMean(pool, n), base, [...ups].reverse());
    // Each matches the batch rule on its own order exactly ...
    expect(Array.from(backward)).toEqual(Array.from(new WeightedMean().aggregate(base, [...ups].reverse())));
    // ... and the two orders differ by at most one float32 step, at a handful of coordinates.
    let differ = 0;
    for (let i = 0; i < n; i++) {
      if (forward[i] === backward[i]) continue;
      differ++;
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(forward[i]))) - 23);
      expect(Math.abs(forward[i] - backward[i])).toBeLessThanOrEqual(ulp);
    }
    expect(differ).toBeLessThan(n / 100);
  });

  it('mean: a burst past the queue goes to disk, not memory, and still folds in order', async () => {
    // Workers held back: nothing is folded until the gate opens, so every slot stays taken.
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    class Held extends AggregationPool {
      override call(w: number, message: PoolMessage) {
        return message.op === 'fold' ? gate.then(() => super.call(w, message)) : super.call(w, message);
      }
    }
    const held = new Held(2);
    dir = mkdtempSync(join(tmpdir(), 'gridtab-mean-queue-test-'));
    const n = 1001;
    const ups = updates(30, n, 16);
    const expected = new WeightedMean().aggregate(new Float32Array(n), ups);
    const acc = new StreamingMean(held, n, { slots: 3, queue: 4, dir });
    // Not awaited (a burst); each caller array is overwritten as soon as its fold is staged, as
    // the contract allows, so an accumulator still reading a caller's array would go wrong.
    const inputs = ups.map((u) => ({ ...u, delta: u.delta.slice() }));
    const staged = inputs.map((u) => acc.fold(u).then(() => u.delta.fill(Number.NaN)));
    await new Promise((r) => setTimeout(r, 50));
    expect(acc.peakQueued).toBeLessThanOrEqual(4);
    expect(acc.spilled).toBe(30 - 3 - 4);
    expect(readdirSync(dir)).toHaveLength(1);
    open();
    await Promise.all(staged);
    expect(Array.from(await acc.finish(new Float32Array(n)))).toEqual(Array.from(expected));
    await acc.close();
    expect(readdirSync(dir)).toEqual([]);
    await held.close();
  });

  it('mean: batches of more than one wasm call (over 8 updates) match fold by fold', async () => {
    const n = 333;
    const ups = updates(21, n, 17);
    const base = updates(1, n, 18)[0].delta;
    const acc = new StreamingMean(pool, n, { slots: 16 });
    expect(Array.from(await streamed(acc, base, ups))).toEqual(
      Array.from(new WeightedMean().aggregate(base, ups)),
    );
  });

  it('mean: a burst of updates wider than the ring: queued, spilled, read back a piece at a time', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridtab-mean-ring-test-'));
    const n = 1001;
    const ups = updates(14, n, 21);
    const base = updates(1, n, 22)[0].delta;
    const expected = new WeightedMean().aggregate(base, ups);
    // 504 values a worker in pieces of 40: 13 pieces an update through a ring of 3.
    const acc = new StreamingMean(pool, n, { slots: 3, pieceValues: 40, queue: 2, dir });
    expect(acc.piece).toBe(40);
    const inputs = ups.map((u) => ({ ...u, delta: u.delta.slice() }));
    const staged = inputs.map((u) => acc.fold(u).then(() => u.delta.fill(Number.NaN)));
    // None fits the ring at once: the first is being copied and one waits (the queue of 2 holds
    // both by reference); the other 12 are on disk.
    expect(acc.peakQueued).toBe(2);
    expect(acc.spilled).toBe(14 - 2);
    await Promise.all(staged);
    expect(Array.from(await acc.finish(base))).toEqual(Array.from(expected));
    await acc.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('mean: an intake with two updates in flight has them folded in pairs, as fold by fold', async () => {
    const n = 1001;
    const ups = updates(12, n, 23);
    const base = updates(1, n, 24)[0].delta;
    const expected = new WeightedMean().aggregate(base, ups);
    // 501 values a worker in pieces of 40: no update fits the ring of 8 at once.
    const acc = new StreamingMean(pool, n, { slots: 8, pieceValues: 40, group: 4 });
    const inputs = ups.map((u) => ({ ...u, delta: u.delta.slice() }));
    let previous: Promise<void> = Promise.resolve();
    for (const u of inputs) {
      const staged = acc.fold(u).then(() => {
        u.delta.fill(Number.NaN);
      });
      await previous; // the next update arrives while this one is being staged
      previous = staged;
    }
    await previous;
    expect(acc.grouped).toBeGreaterThanOrEqual(10);
    expect(acc.spilled).toBe(0);
    expect(Array.from(await acc.finish(base))).toEqual(Array.from(expected));
    await acc.close();
  });

  it('mean: groups by default only a sum too big for the cache', async () => {
    const small = new StreamingMean(pool, 1_000_000);
    const big = new StreamingMean(pool, 10_000_000);
    expect([small.group, big.group]).toEqual([1, 4]);
    await Promise.all([small.close(), big.close()]);
  });

  it('mean: a closed accumulator refuses folds', async () => {
    const acc = new StreamingMean(pool, 4);
    await acc.close();
    await expect(acc.fold({ delta: new Float32Array(4), numSamples: 1 })).rejects.toThrow(/closed/);
  });
});
