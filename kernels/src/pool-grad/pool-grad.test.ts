/**
 * The pooling-gradient suites on webgpu (our kernels, Dawn + SwiftShader here) and on TF.js's cpu
 * backend, both against TF.js's cpu kernels, and that ours (not TF.js's webgpu kernels) ran.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overrideRoutes } from '../gpu/override.ts';
import { describeFailure } from '../suite/check.ts';
import { runSuite } from '../suite/run.ts';
import { suiteFor } from '../suite/suites.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';
import { POOL_CASES } from './pool-grad.suite.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

describe('pool-grad suites', () => {
  for (const [op, kernel] of [
    ['max-pool-grad', 'MaxPoolGrad'],
    ['avg-pool-grad', 'AvgPoolGrad'],
  ]) {
    for (const backend of ['webgpu', 'cpu']) {
      it(`${op} passes every case on ${backend}`, { timeout: 120_000 }, async () => {
        const before = overrideRoutes(tf.findBackend('webgpu'), kernel).ours;
        const results = await onBackend(backend, () => runSuite([suiteFor(op)]));
        expect(results.filter((r) => !r.ok).map(describeFailure)).toEqual([]);
        expect(results.length).toBe(POOL_CASES.length);
        const ran = overrideRoutes(tf.findBackend('webgpu'), kernel).ours - before;
        expect(ran).toBe(backend === 'webgpu' ? POOL_CASES.length : 0);
      });
    }
  }
});
