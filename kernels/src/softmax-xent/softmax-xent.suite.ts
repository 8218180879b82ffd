/**
 * Correctness suite of fused softmax cross-entropy against float64 loops, with the default clip
 * bounds ([1e-7, 1 - 1e-7] as float32; the large-magnitude case has every probability clipped).
 * Tolerance: float32 exp/log carry a relative error proportional to their argument, so each
 * element is allowed 1e-6 + 2e-6 * (its terms' magnitude), where the magnitude of the loss is
 * sum_j y_j (|z_j| + |max z|) + 1 and of a gradient entry (p_j (1 + |z_j - max z|) sum y + y_j) / rows.
 */
import * as tf from '@tensorflow/tfjs';
import { type CheckResult, compare, fill, type SuiteCase } from '../suite/check.ts';
import { clipBounds, DEFAULT_EPSILON, softmaxCrossEntropy, softmaxCrossEntropyLoss } from './softmax-xent.ts';

export interface SoftmaxXentParams {
  rows: number;
  cols: number;
  labels: 'onehot' | 'soft';
}

export function makeLabels(p: SoftmaxXentParams): Float32Array {
  const y = new Float32Array(p.rows * p.cols);
  if (p.labels === 'onehot') {
    for (let r = 0; r < p.rows; r++) y[r * p.cols + ((r * 7 + 3) % p.cols)] = 1;
  } else {
    const u = fill('random', y.length, 99);
    for (let r = 0; r < p.rows; r++) {
      let s = 0;
      for (let j = 0; j < p.cols; j++) s += y[r * p.cols + j] = Math.abs(u[r * p.cols + j]) + 0.01;
      for (let j = 0; j < p.cols; j++) y[r * p.cols + j] /= s;
    }
  }
  return y;
}

export function softmaxXentRef(z: Float32Array, y: Float32Array, p: SoftmaxXentParams) {
  const { rows, cols } = p;
  const { min, max: hi } = clipBounds(DEFAULT_EPSILON, 1 - DEFAULT_EPSILON);
  const grad = new Float64Array(rows * cols);
  const gradMag = new Float64Array(rows * cols);
  let loss = 0;
  let lossMag = 1;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < cols; j++) max = Math.max(max, z[o + j]);
    let sumExp = 0;
    let sumY = 0;
    for (let j = 0; j < cols; j++) sumExp += Math.exp(z[o + j] - max);
    const prob = (j: number) => Math.exp(z[o + j] - max) / sumExp;
    const kept = (j: number) => prob(j) >= min && prob(j) <= hi;
    let yKept = 0;
    for (let j = 0; j < cols; j++) {
      sumY += y[o + j];
      if (kept(j)) yKept += y[o + j];
    }
    const lse = Math.log(sumExp) + max;
    for (let j = 0; j < cols; j++) {
      const logC = kept(j) ? z[o + j] - lse : Math.log(Math.min(Math.max(prob(j), min), hi));
      loss -= (y[o + j] * logC) / rows;
      lossMag += (y[o + j] * (Math.abs(z[o + j]) + Math.abs(max))) / rows;
      grad[o + j] = (prob(j) * yKept - (kept(j) ? y[o + j] : 0)) / rows;
      gradMag[o + j] = (prob(j) * (1 + Math.abs(z[o + j] - max)) * sumY + y[o + j]) / rows;
    }
  }
  return { loss, lossMag, grad, gradMag };
}

export async function checkSoftmaxXent(c: SuiteCase<SoftmaxXentParams>): Promise<CheckResult[]> {
  const p = c.params;
  const z = fill(c.fill, p.rows * p.cols, 5, 3);
  const y = makeLabels(p);
  const zt = tf.tensor2d(z, [p.rows, p.cols]);
  const yt = tf.tensor2d(y, [p.rows, p.cols]);
  try {
    const { loss, grad } = softmaxCrossEntropy(zt, yt);
    // The differentiable wrapper must hand autodiff exactly the fused gradient.
    const viaGrad = tf.grad((logits: tf.Tensor) => softmaxCrossEntropyLoss(logits as tf.Tensor2D, yt))(zt);
    const [l, g, ag] = await Promise.all([loss.data(), grad.data(), viaGrad.data()]);
    tf.dispose([loss, grad, viaGrad]);
    const ref = softmaxXentRef(z, y, p);
    const tol = (magnitude: ArrayLike<number>) => ({ atol: 1e-6, rtol: 2e-6, magnitude });
    return [
      compare(c.op, c.name, 'loss', l, [ref.loss], tol([ref.lossMag])),
      compare(c.op, c.name, 'grad', g, ref.grad, tol(ref.gradMag)),
      compare(c.op, c.name, 'autodiff-grad', ag, ref.grad, tol(ref.gradMag)),
    ];
  } finally {
    tf.dispose([zt, yt]);
  }
}
