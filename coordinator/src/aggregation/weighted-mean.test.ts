import { describe, expect, it } from 'vitest';
import { aggregatorSuite } from './aggregator.case.ts';
import { validateUpdate } from './validate.ts';
import { WeightedMean } from './weighted-mean.ts';

aggregatorSuite(() => new WeightedMean());

describe('WeightedMean (the mean rule)', () => {
  it('weights deltas by their sample counts', () => {
    const out = new WeightedMean().aggregate(Float32Array.of(10), [
      { delta: Float32Array.of(1), numSamples: 1 },
      { delta: Float32Array.of(4), numSamples: 3 },
    ]);
    expect(out[0]).toBeCloseTo(10 + (1 * 1 + 4 * 3) / 4, 6);
  });
});

describe('validateUpdate', () => {
  const bytes = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

  it('accepts a finite update of the right size within the norm bound', () => {
    expect(validateUpdate(bytes([3, 4]), 2, 5)).toBeNull();
  });

  it('names the first problem: shape, then finiteness, then norm', () => {
    expect(validateUpdate(bytes([1, 2, 3]), 2, 10)?.code).toBe('WRONG_SHAPE');
    expect(validateUpdate(new Uint8Array(7), 2, 10)?.code).toBe('WRONG_SHAPE');
    expect(validateUpdate(bytes([1, Number.NaN]), 2, 10)?.code).toBe('NON_FINITE');
    expect(validateUpdate(bytes([Number.POSITIVE_INFINITY, 0]), 2, 10)?.code).toBe('NON_FINITE');
    expect(validateUpdate(bytes([30, 40]), 2, 10)?.code).toBe('NORM_TOO_LARGE');
  });

  it('reads payloads that start at an odd byte offset', () => {
    const padded = new Uint8Array(9);
    padded.set(bytes([1, 2]), 1);
    expect(validateUpdate(padded.subarray(1), 2, 10)).toBeNull();
  });
});
