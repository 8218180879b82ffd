/**
 * The weighted-sum suite on webgpu (our kernel, Dawn + SwiftShader here) and on TF.js's cpu backend
 * (the fallback), both against the float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure } from '../suite/check.ts';
import { runSuite } from '../suite/run.ts';
import { suiteFor } from '../suite/suites.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

describe('weighted-sum suite', () => {
  for (const backend of ['webgpu', 'cpu']) {
    it(`passes every case on ${backend}`, async () => {
      const suite = suiteFor('weighted-sum');
      const results = await onBackend(backend, () => runSuite([suite]));
      expect(results.filter((r) => !r.ok).map(describeFailure)).toEqual([]);
      expect(results.length).toBeGreaterThanOrEqual(suite.cases.length);
    });
  }
});
