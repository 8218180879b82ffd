/**
 * Correctness suite of the weighted sum against float64 loops.
 * Tolerance: 1e-6 + 2e-7 * N * sum_i |w_i u_i| per element (float32 rounding of N products and sums).
 */
import * as tf from '@tensorflow/tfjs';
import { type CheckResult, compare, fill, type SuiteCase } from '../suite/check.ts';
import { weightedSum } from './weighted-sum.ts';

export interface WeightedSumParams {
  n: number;
  buffers: number;
}

export async function checkWeightedSum(c: SuiteCase<WeightedSumParams>): Promise<CheckResult[]> {
  const { n, buffers } = c.params;
  const data = Array.from({ length: buffers }, (_, i) => fill(c.fill, n, 30 + i));
  const weights = Array.from({ length: buffers }, (_, i) => ((i % 3) - 1) * 0.37 + 1 / (i + 1));
  const tensors = data.map((d) => tf.tensor1d(d));
  try {
    const out = weightedSum(tensors, weights);
    const got = await out.data();
    out.dispose();
    const want = new Float64Array(n);
    const magnitude = new Float64Array(n);
    data.forEach((d, b) => {
      for (let i = 0; i < n; i++) {
        want[i] += weights[b] * d[i];
        magnitude[i] += Math.abs(weights[b] * d[i]) * 2e-7 * buffers;
      }
    });
    return [compare(c.op, c.name, 'sum', got, want, { atol: 1e-6, rtol: 1, magnitude })];
  } finally {
    tf.dispose(tensors);
  }
}
