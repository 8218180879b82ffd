/**
 * Correctness suite of top-k with error feedback, all exact (selection copies values, it does
 * not compute them): the selected magnitudes equal the reference's k largest, each value is the
 * accumulated entry at its index, indices are distinct, and the residual is the accumulation
 * with exactly those entries zeroed. Ties may be broken either way, so indices are not compared.
 */
import * as tf from '@tensorflow/tfjs';
import { type CheckResult, compare, fill, type SuiteCase } from '../suite/check.ts';
import { topKWithFeedback } from './topk.ts';

export interface TopKParams {
  n: number;
  k: number;
}

export async function checkTopK(c: SuiteCase<TopKParams>): Promise<CheckResult[]> {
  const { n, k } = c.params;
  const u = fill(c.fill, n, 50);
  // Ramp data repeats values, so it exercises ties at the threshold.
  const r = fill(c.fill === 'ramp' ? 'zeros' : c.fill, n, 51, 0.5);
  const ut = tf.tensor1d(u);
  const rt = tf.tensor1d(r);
  try {
    const out = await topKWithFeedback(ut, rt, k);
    const [idx, values, residual] = (await Promise.all([
      out.indices.data(),
      out.values.data(),
      out.residual.data(),
    ])) as [Int32Array, Float32Array, Float32Array];
    tf.dispose([out.indices, out.values, out.residual]);
    const acc = Float32Array.from(u, (v, i) => v + r[i]);
    const wantMags = Array.from(acc, Math.abs)
      .sort((a, b) => b - a)
      .slice(0, k);
    const gotMags = Array.from(values, Math.abs).sort((a, b) => b - a);
    const distinct = new Set(idx).size === k && idx.every((i) => i >= 0 && i < n);
    const atIndex = Array.from(idx, (i) => (i >= 0 && i < n ? acc[i] : Number.NaN));
    const wantResidual = Float32Array.from(acc);
    for (const i of idx) if (i >= 0 && i < n) wantResidual[i] = 0;
    const exact = { atol: 0, rtol: 0 };
    return [
      compare(c.op, c.name, 'magnitudes', gotMags, wantMags, exact),
      compare(c.op, c.name, 'values-at-indices', values, atIndex, exact),
      compare(c.op, c.name, 'distinct-indices', [distinct ? 1 : 0], [1], exact),
      compare(c.op, c.name, 'residual', residual, wantResidual, exact),
    ];
  } finally {
    tf.dispose([ut, rt]);
  }
}
