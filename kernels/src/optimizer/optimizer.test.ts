/**
 * The optimizer suite on webgpu (our kernel, Dawn + SwiftShader here) and on TF.js's cpu backend
 * (the fallback), both against the float64 reference; and the flat steps against TF.js's own
 * optimizers (run on webgpu: the file's active backend), which the runtime replaces with them.
 */

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, describeFailure, fill } from '../suite/check.ts';
import { runSuite } from '../suite/run.ts';
import { suiteFor } from '../suite/suites.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';
import { ADAM_SLOTS, adamStep, initialState, MOMENTUM_SLOTS, momentumStep, paramsOf } from './optimizer.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

describe('optimizer suite', () => {
  for (const backend of ['webgpu', 'cpu']) {
    it(`passes every case on ${backend}`, async () => {
      const suite = suiteFor('optimizer');
      const results = await onBackend(backend, () => runSuite([suite]));
      expect(results.filter((r) => !r.ok).map(describeFailure)).toEqual([]);
      expect(results.length).toBeGreaterThanOrEqual(suite.cases.length);
    });
  }
});

describe('flat optimizer steps match TF.js optimizers', () => {
  for (const kind of ['adam', 'momentum'] as const) {
    it(`${kind}: three steps equal tf.train.${kind} on the same variable`, async () => {
      const n = 257;
      const p0 = fill('random', n, 60);
      const grads = [61, 62, 63].map((seed) => fill('random', n, seed));
      const variable = tf.variable(tf.tensor1d(p0));
      const optimizer =
        kind === 'adam' ? tf.train.adam(0.01, 0.9, 0.999, 1e-7) : tf.train.momentum(0.05, 0.9);
      const slots = kind === 'adam' ? ADAM_SLOTS : MOMENTUM_SLOTS;
      let state = initialState(tf.tensor1d(p0), slots);
      for (const [t, g] of grads.entries()) {
        const gt = tf.tensor1d(g);
        optimizer.applyGradients([{ name: variable.name, tensor: gt }]);
        const next =
          kind === 'adam'
            ? adamStep(state, gt, { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: t + 1 })
            : momentumStep(state, gt, { lr: 0.05, momentum: 0.9 });
        tf.dispose([state, gt]);
        state = next;
      }
      const params = paramsOf(state, slots);
      const got = await params.data();
      const want = await variable.data();
      const r = compare('optimizer', kind, 'params-vs-tf.train', got, want, { atol: 1e-6, rtol: 1e-5 });
      expect(r.ok ? [] : [describeFailure(r)]).toEqual([]);
      optimizer.dispose();
      tf.dispose([state, params, variable]);
    });
  }
});
