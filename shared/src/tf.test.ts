import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Normalization } from './dataset.ts';
import { imageDataSpec } from './dataset.ts';
import { encodeShard, imageShard } from './shard.ts';
import { normalizedValues, normalizeInputs, shardsToRows, shardToTensors } from './tf.ts';

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

  it('gives the tensor path bit for bit on bytes normalized per channel, into an array at an offset', () => {
    const pixels = Uint8Array.from({ length: 300 * 3 }, (_, i) => (i * 101 + (i >> 4)) % 256);
    const norm: Normalization = {
      inputMean: [125.3, 122.9, 113.8],
      inputStd: [62.99, 62.09, 66.7],
      targetMean: null,
      targetStd: null,
    };
    const out = new Float32Array(5 + pixels.length);
    out[4] = 42;
    normalizedValues(pixels, norm, out, 5);
    expect(out.subarray(5)).toEqual(viaTensors(Float32Array.from(pixels), [300, 3], norm));
    expect(out[4]).toBe(42);
    // Too few bytes for a table: computed one by one, the same values.
    expect(normalizedValues(pixels.subarray(0, 30), norm)).toEqual(out.subarray(5, 35));
    expect(() => normalizedValues(pixels, norm, new Float32Array(pixels.length), 1)).toThrow(/too short/);
  });

  it('refuses statistics that do not fit the values', () => {
    const norm: Normalization = { inputMean: [0, 1], inputStd: [1, 1], targetMean: null, targetStd: null };
    expect(() => normalizedValues(Float32Array.of(1, 2, 3), norm)).toThrow(/does not fit/);
    expect(() => normalizedValues(Float32Array.of(1, 2), { ...norm, inputStd: [1] })).toThrow(/does not fit/);
  });
});

describe('shardsToRows', () => {
  it('holds what shardToTensors gives, shard after shard', async () => {
    await tf.setBackend('cpu');
    const spec = imageDataSpec('d', [4, 4, 1], 3);
    const shards = [5, 2].map((count, s) =>
      encodeShard(
        imageShard({
          count,
          rows: 4,
          cols: 4,
          pixels: Uint8Array.from({ length: count * 16 }, (_, i) => (i * 29 + s * 7) % 256),
          labels: Uint8Array.from({ length: count }, (_, i) => (i + s) % 3),
        }),
      ),
    );
    const { rows, y, count } = shardsToRows(shards, spec);
    const parts = shards.map((b) => shardToTensors(b, spec));
    expect(count).toBe(7);
    expect(rows).toEqual(Float32Array.from(parts.flatMap((p) => Array.from(p.x.dataSync()))));
    expect(Array.from(y.dataSync())).toEqual(parts.flatMap((p) => Array.from(p.y.dataSync())));
    expect(y.shape).toEqual([7, 3]);
    tf.dispose([y, ...parts.flatMap((p) => [p.x, p.y])]);
  });
});
