/**
 * Correctness suite of the fused optimizer steps: several steps with fresh gradients each,
 * against float64 loops of the same formulas.
 * Tolerance: 1e-6 + 1e-5 * (|x| + lr * steps) for parameters (Adam moves a parameter by at most
 * about lr per step), 1e-6 + 1e-5 * (the slot accumulated from |g|) for the slots, since m can
 * cancel to near zero from large gradients of both signs.
 */

import type { Tensor1D } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { type CheckResult, compare, fill, type SuiteCase } from '../suite/check.ts';
import { ADAM_SLOTS, adamStep, initialState, MOMENTUM_SLOTS, momentumStep } from './optimizer.ts';

export interface OptimizerParams {
  n: number;
  kind: 'adam' | 'momentum';
  steps: number;
}

const ADAM = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const MOMENTUM = { lr: 0.05, momentum: 0.9 };

/** The state after all steps, and for each slot the same recurrence over |g| (its magnitude). */
function reference(p0: Float32Array, grads: Float32Array[], kind: OptimizerParams['kind']) {
  const n = p0.length;
  const slots = kind === 'adam' ? ADAM_SLOTS : MOMENTUM_SLOTS;
  const s = new Float64Array(n * slots);
  const mag = new Float64Array(n * slots);
  s.set(p0);
  grads.forEach((g, t) => {
    for (let i = 0; i < n; i++) {
      if (kind === 'momentum') {
        s[n + i] = MOMENTUM.momentum * s[n + i] + g[i];
        mag[n + i] = MOMENTUM.momentum * mag[n + i] + Math.abs(g[i]);
        s[i] -= MOMENTUM.lr * s[n + i];
      } else {
        mag[n + i] = ADAM.beta1 * mag[n + i] + (1 - ADAM.beta1) * Math.abs(g[i]);
        s[n + i] = ADAM.beta1 * s[n + i] + (1 - ADAM.beta1) * g[i];
        s[2 * n + i] = ADAM.beta2 * s[2 * n + i] + (1 - ADAM.beta2) * g[i] * g[i];
        const mHat = s[n + i] / (1 - ADAM.beta1 ** (t + 1));
        const vHat = s[2 * n + i] / (1 - ADAM.beta2 ** (t + 1));
        s[i] -= (ADAM.lr * mHat) / (Math.sqrt(vHat) + ADAM.epsilon);
      }
    }
  });
  for (let i = 0; i < n; i++) {
    mag[i] = Math.abs(s[i]) + (kind === 'adam' ? ADAM.lr : MOMENTUM.lr * mag[n + i]) * grads.length;
    if (kind === 'adam') mag[2 * n + i] = s[2 * n + i];
  }
  return { s, mag };
}

export async function checkOptimizer(c: SuiteCase<OptimizerParams>): Promise<CheckResult[]> {
  const { n, kind, steps } = c.params;
  const slots = kind === 'adam' ? ADAM_SLOTS : MOMENTUM_SLOTS;
  const p0 = fill('random', n, 40);
  const grads = Array.from({ length: steps }, (_, t) => fill(c.fill, n, 41 + t));
  const params = tf.tensor1d(p0);
  let state = initialState(params, slots);
  params.dispose();
  for (let t = 0; t < steps; t++) {
    const g = tf.tensor1d(grads[t]);
    const next: Tensor1D =
      kind === 'adam' ? adamStep(state, g, { ...ADAM, step: t + 1 }) : momentumStep(state, g, MOMENTUM);
    tf.dispose([state, g]);
    state = next;
  }
  const got = await state.data();
  state.dispose();
  const { s: want, mag } = reference(p0, grads, kind);
  const part = (k: number) => [k * n, (k + 1) * n] as const;
  return Array.from({ length: slots }, (_, k) => {
    const w = want.subarray(...part(k));
    const magnitude = mag.subarray(...part(k));
    const name = ['params', kind === 'adam' ? 'm' : 'velocity', 'v'][k];
    return compare(c.op, c.name, name, got.subarray(...part(k)), w, { atol: 1e-6, rtol: 1e-5, magnitude });
  });
}
