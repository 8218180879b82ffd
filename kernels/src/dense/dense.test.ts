/**
 * The dense suite on webgpu (our kernels, Dawn + SwiftShader here) and on TF.js's cpu backend
 * (the fallback path), both against the float64 reference.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure } from '../suite/check.ts';
import { runSuite } from '../suite/run.ts';
import { suiteFor } from '../suite/suites.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

describe('dense suite', () => {
  for (const backend of ['webgpu', 'cpu']) {
    it(`passes every case on ${backend}`, async () => {
      const results = await onBackend(backend, () => runSuite([suiteFor('dense')]));
      expect(results.filter((r) => !r.ok).map(describeFailure)).toEqual([]);
      expect(results.length).toBe(suiteFor('dense').cases.length * 4);
    });
  }

  it('runs our kernel on webgpu, not the fallback', async () => {
    await onBackend('webgpu', async () => {
      const x = tf.ones([2, 3]) as tf.Tensor2D;
      const w = tf.ones([3, 4]) as tf.Tensor2D;
      const b = tf.zeros([4]) as tf.Tensor1D;
      const { fusedDense } = await import('./dense.ts');
      const profile = await tf.profile(() => fusedDense(x, w, b, 'relu'));
      expect(profile.kernelNames).toEqual(['GridTabFusedDense']);
      tf.dispose([x, w, b]);
    });
  });
});
