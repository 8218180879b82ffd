import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Normalization } from './dataset.ts';
import { normalizedValues, normalizeInputs } from './tf.ts';

/** The tensor path, on the cpu backend (float32 arithmetic, as wasm's). */
function viaTensors(values: Float32Array, shape: number[], norm: Normalization): Float32Array {
  return tf.tidy(() => normalizeInputs(tf.tensor(values, shape, 'float32'), norm)).dataSync() as Float32Array;
}

describe('normalizedValues', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gives the tensor path bit for bit on pixels, one mean and deviation for all', () => {
    const pixels = Uint8Array.from({ length: 3 * 784 }, (_, i) => (i * 37) % 256);
    const norm: Normalization = { inputMean: [0], inputStd: [255], targetMean: null, targetStd: null };
    const fast = normalizedValues(pixels, norm);
    const slow = viaTensors(Float32Array.from(pixels), [3, 28, 28, 1], norm);
    expect(fast).toEqual(slow);
    expect(fast[1]).toBeCloseTo(37 / 255, 6);
  });

  it('normalizes each feature by its own statistics and imputes NaN as 0 under the mean policy', () => {
    const values = Float32Array.of(1.5, 200, -3, Number.NaN, 180.25, 7, 0.1, Number.NaN, 0);
    const norm: Normalization = {
      inputMean: [0.7, 190.5, 2.2],
      inputStd: [1.3, 9.75, 4.1],
      targetMean: null,
      targetStd: null,
      imputation: 'mean',
    };
    const fast = normalizedValues(values, norm);
    expect(fast).toEqual(viaTensors(values, [3, 3], norm));
    expect(fast[3]).toBe(0);
    expect(fast[7]).toBe(0);
    expect(fast[2]).toBeCloseTo((-3 - 2.2) / 4.1, 5);
    // Without the policy a missing value stays missing, as on the tensor path.
    const kept = normalizedValues(values, { ...norm, imputation: undefined });
    expect(Number.isNaN(kept[3])).toBe(true);
  });

  it('refuses statistics that do not fit the values', () => {
    const norm: Normalization = { inputMean: [0, 1], inputStd: [1, 1], targetMean: null, targetStd: null };
    expect(() => normalizedValues(Float32Array.of(1, 2, 3), norm)).toThrow(/does not fit/);
    expect(() => normalizedValues(Float32Array.of(1, 2), { ...norm, inputStd: [1] })).toThrow(/does not fit/);
  });
});
