/**
 * The top-k suite on webgpu (our radix-select kernels, Dawn + SwiftShader here) and on TF.js's
 * cpu backend (tf.topk fallback), plus the threshold search on its own.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure } from '../suite/check.ts';
import { runSuite } from '../suite/run.ts';
import { suiteFor } from '../suite/suites.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';
import { findBin, topKWithFeedback } from './topk.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

describe('top-k with error feedback suite', () => {
  for (const backend of ['webgpu', 'cpu']) {
    it(`passes every case on ${backend}`, async () => {
      const suite = suiteFor('topk');
      const results = await onBackend(backend, () => runSuite([suite]));
      expect(results.filter((r) => !r.ok).map(describeFailure)).toEqual([]);
      expect(results.length).toBe(suite.cases.length * 4);
    });
  }

  it('selects with our kernels on webgpu, not tf.topk', async () => {
    await onBackend('webgpu', async () => {
      const u = tf.tensor1d([3, -9, 1, 4]);
      const r = tf.tensor1d([0, 0, 0, 0]);
      const profile = await tf.profile(async () => {
        const out = await topKWithFeedback(u, r, 2);
        return [out.indices, out.values, out.residual];
      });
      expect(profile.kernelNames).toContain('GridTabTopKSelect');
      expect(profile.kernelNames).not.toContain('TopK');
      tf.dispose([u, r]);
    });
  });
});

describe('findBin', () => {
  it('finds the bin where the count from the top reaches k', () => {
    const hist = Int32Array.from([5, 0, 3, 2]);
    expect(findBin(hist, 1)).toEqual({ bin: 3, above: 0 });
    expect(findBin(hist, 3)).toEqual({ bin: 2, above: 2 });
    expect(findBin(hist, 6)).toEqual({ bin: 0, above: 5 });
    expect(() => findBin(hist, 11)).toThrow();
  });
});
