/** The robust rules through the shared Aggregator suite, then what each promises on its own. */
import { describe, expect, it } from 'vitest';
import { aggregatorSuite } from './aggregator.case.ts';
import type { WeightedUpdate } from './aggregator.ts';
import { CenteredClip } from './centered-clip.ts';
import { Median } from './median.ts';
import { aggregatorFor } from './rules.ts';
import { TrimmedMean } from './trimmed-mean.ts';
import { WeightedMean } from './weighted-mean.ts';

aggregatorSuite(() => new TrimmedMean(0.2));
aggregatorSuite(() => new Median());
aggregatorSuite(() => new CenteredClip());
aggregatorSuite(() => new CenteredClip(0.5, 5));

const up = (values: number[], numSamples = 10): WeightedUpdate => ({
  delta: Float32Array.from(values),
  numSamples,
});

/** Four honest updates near (1, -1, 0.5) and one attacker. */
function planted(attacker: number[]): WeightedUpdate[] {
  return [
    up([1.0, -1.0, 0.5]),
    up([1.1, -0.9, 0.4]),
    up([0.9, -1.1, 0.6]),
    up([1.05, -1.0, 0.5]),
    up(attacker, 1_000_000), // a hostile tab also claims a huge sample count
  ];
}

describe('robust rules', () => {
  it('trimmed mean ignores a planted outlier and the sample count it claims', () => {
    const out = new TrimmedMean(0.2).aggregate(new Float32Array(3), planted([1e6, 1e6, -1e6]));
    // One value per side is dropped: what is left is the mean of honest values only.
    expect(out[0]).toBeGreaterThanOrEqual(0.9);
    expect(out[0]).toBeLessThanOrEqual(1.1);
    expect(out[1]).toBeGreaterThanOrEqual(-1.1);
    expect(out[1]).toBeLessThanOrEqual(-0.9);
    expect(new WeightedMean().aggregate(new Float32Array(3), planted([1e6, 1e6, -1e6]))[0]).toBeGreaterThan(
      1e5,
    );
  });

  it('trimmed mean with trim 0 is the plain unweighted mean', () => {
    const out = new TrimmedMean(0).aggregate(Float32Array.of(1), [up([1], 1), up([2], 100), up([6], 1)]);
    expect(out[0]).toBeCloseTo(4, 6);
  });

  it('median of 3 is the middle value, per coordinate; of 2 the midpoint', () => {
    const out = new Median().aggregate(Float32Array.of(0, 10), [up([1, 100]), up([5, -3]), up([100, 7])]);
    expect(Array.from(out)).toEqual([5, 17]);
    expect(new Median().aggregate(Float32Array.of(0), [up([1]), up([3])])[0]).toBe(2);
  });

  it('median holds against two sign-flipped and scaled attackers out of five', () => {
    const ups = planted([-50, 50, -25]);
    ups[3] = up([-50, 50, -25]);
    const out = new Median().aggregate(new Float32Array(3), ups);
    // The smallest honest value: the median is pulled to the edge of the honest range, not past it.
    expect(out[0]).toBe(Math.fround(0.9));
    expect(out[1]).toBe(Math.fround(-0.9));
  });

  it('centered clipping moves the center at most radius / n per iteration towards an attacker', () => {
    const honest = Array.from({ length: 4 }, () => up([0, 0, 0]));
    const out = new CenteredClip(1, 3).aggregate(new Float32Array(3), [...honest, up([1000, 0, 0])]);
    const norm = Math.hypot(...out);
    expect(norm).toBeGreaterThan(0); // the attacker does pull, but
    expect(norm).toBeLessThanOrEqual((3 * 1) / 5 + 1e-9); // never further than this bound
  });

  it('centered clipping with its adaptive radius stays with the honest majority', () => {
    const out = new CenteredClip().aggregate(new Float32Array(3), planted([-100, 100, -50]));
    expect(out[0]).toBeGreaterThan(0.5);
    expect(out[1]).toBeLessThan(-0.5);
  });

  it('are built from the job spec', () => {
    expect(aggregatorFor({ rule: 'mean' }).name).toBe('mean');
    expect(aggregatorFor({ rule: 'trimmed-mean', trim: 0.1 })).toMatchObject({
      name: 'trimmed-mean',
      trim: 0.1,
    });
    expect(aggregatorFor({ rule: 'median' }).name).toBe('median');
    expect(aggregatorFor({ rule: 'centered-clip', iterations: 2 })).toMatchObject({ iterations: 2 });
  });
});
