/**
 * The softmax cross-entropy suite on webgpu (our kernel, Dawn + SwiftShader here) and on TF.js's
 * cpu backend (the fallback), both against the float64 reference.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure } from '../suite/check.ts';
import { runSuite } from '../suite/run.ts';
import { suiteFor } from '../suite/suites.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';
import { softmaxCrossEntropy } from './softmax-xent.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

describe('softmax cross-entropy suite', () => {
  for (const backend of ['webgpu', 'cpu']) {
    it(`passes every case on ${backend}`, async () => {
      const suite = suiteFor('softmax-xent');
      const results = await onBackend(backend, () => runSuite([suite]));
      expect(results.filter((r) => !r.ok).map(describeFailure)).toEqual([]);
      expect(results.length).toBe(suite.cases.length * 3);
    });
  }

  it('runs our kernel on webgpu', async () => {
    await onBackend('webgpu', async () => {
      const z = tf.zeros([4, 3]) as tf.Tensor2D;
      const profile = await tf.profile(() => Object.values(softmaxCrossEntropy(z, z)));
      expect(profile.kernelNames).toContain('GridTabSoftmaxCrossEntropy');
      expect(profile.kernelNames).not.toContain('Softmax');
      z.dispose();
    });
  });
});
