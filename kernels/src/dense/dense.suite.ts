/**
 * Correctness suite of the dense kernels: forward and the three gradients against float64 loops.
 * Tolerance: |err| <= 1e-6 + 1e-5 * sum_k |a_k b_k| per element, i.e. a few float32 ulps of the
 * dot product's terms (worst-case float32 summation error grows with K; 1e-5 covers K <= ~1000
 * at the typical sqrt(K) growth while an indexing bug misses by orders of magnitude).
 */
import * as tf from '@tensorflow/tfjs';
import { type CheckResult, compare, fill, type SuiteCase } from '../suite/check.ts';
import { denseBackward, fusedDense } from './dense.ts';
import type { Activation } from './dense-kernel.ts';

export interface DenseParams {
  batch: number;
  inDim: number;
  outDim: number;
  activation: Activation;
}

/** out[m, n] = sum_k A(m, k) B(k, n) in float64, with sum |terms| for the tolerance. */
function matmulRef(
  m: number,
  n: number,
  k: number,
  a: (i: number, kk: number) => number,
  b: (kk: number, j: number) => number,
): { value: Float64Array; magnitude: Float64Array } {
  const value = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let mag = 0;
      for (let kk = 0; kk < k; kk++) {
        const t = a(i, kk) * b(kk, j);
        s += t;
        mag += Math.abs(t);
      }
      value[i * n + j] = s;
      magnitude[i * n + j] = mag;
    }
  }
  return { value, magnitude };
}

export function denseForwardRef(x: Float32Array, w: Float32Array, bias: Float32Array, p: DenseParams) {
  const { batch, inDim, outDim } = p;
  const r = matmulRef(
    batch,
    outDim,
    inDim,
    (i, k) => x[i * inDim + k],
    (k, j) => w[k * outDim + j],
  );
  for (let i = 0; i < r.value.length; i++) {
    const j = i % outDim;
    r.value[i] += bias[j];
    r.magnitude[i] += Math.abs(bias[j]);
    if (p.activation === 'relu') r.value[i] = Math.max(0, r.value[i]);
  }
  return r;
}

/** Gradients given dY and the forward output Y (whose sign is relu'). */
export function denseBackwardRef(
  dy: Float32Array,
  x: Float32Array,
  w: Float32Array,
  y: ArrayLike<number>,
  p: DenseParams,
) {
  const { batch, inDim, outDim } = p;
  const g = Float64Array.from(dy, (v, i) => (p.activation === 'relu' && !(y[i] > 0) ? 0 : v));
  const dx = matmulRef(
    batch,
    inDim,
    outDim,
    (i, n) => g[i * outDim + n],
    (n, k) => w[k * outDim + n],
  );
  const dw = matmulRef(
    inDim,
    outDim,
    batch,
    (k, b) => x[b * inDim + k],
    (b, n) => g[b * outDim + n],
  );
  const db = matmulRef(
    1,
    outDim,
    batch,
    () => 1,
    (b, n) => g[b * outDim + n],
  );
  return { dx, dw, db };
}

export async function checkDense(c: SuiteCase<DenseParams>): Promise<CheckResult[]> {
  const p = c.params;
  const x = fill(c.fill, p.batch * p.inDim, 1);
  const w = fill(c.fill, p.inDim * p.outDim, 2, 1 / Math.sqrt(p.inDim));
  const bias = fill(c.fill, p.outDim, 3);
  const dy = fill(c.fill, p.batch * p.outDim, 4);
  const tol = (magnitude: ArrayLike<number>) => ({ atol: 1e-6, rtol: 1e-5, magnitude });

  const xt = tf.tensor2d(x, [p.batch, p.inDim]);
  const wt = tf.tensor2d(w, [p.inDim, p.outDim]);
  const bt = tf.tensor1d(bias);
  const dyt = tf.tensor2d(dy, [p.batch, p.outDim]);
  try {
    const yt = fusedDense(xt, wt, bt, p.activation);
    const grads = denseBackward(dyt, xt, wt, yt, p.activation);
    const [y, dx, dw, db] = await Promise.all([yt, grads.dx, grads.dw, grads.db].map((t) => t.data()));
    tf.dispose([yt, grads.dx, grads.dw, grads.db]);
    const fwd = denseForwardRef(x, w, bias, p);
    const bwd = denseBackwardRef(dy, x, w, y, p);
    return [
      compare(c.op, c.name, 'y', y, fwd.value, tol(fwd.magnitude)),
      compare(c.op, c.name, 'dx', dx, bwd.dx.value, tol(bwd.dx.magnitude)),
      compare(c.op, c.name, 'dw', dw, bwd.dw.value, tol(bwd.dw.magnitude)),
      compare(c.op, c.name, 'db', db, bwd.db.value, tol(bwd.db.magnitude)),
    ];
  } finally {
    tf.dispose([xt, wt, bt, dyt]);
  }
}
