/**
 * The dense suite on webgpu (our kernels, Dawn + SwiftShader here) and on TF.js's cpu backend
 * (the fallback path), both against the float64 reference.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, describeFailure, fill } from '../suite/check.ts';
import { runSuite } from '../suite/run.ts';
import { suiteFor } from '../suite/suites.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';
import { type DenseParams, denseBackwardRef, denseForwardRef } from './dense.suite.ts';
import { DENSE_BACKPROP_FILTER, DENSE_BACKPROP_INPUT, FUSED_DENSE, TILINGS } from './dense-kernel.ts';

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

  // The op picks one tiling per shape; each must be right on every shape, including edges.
  for (const tiling of TILINGS) {
    it(`tiling ${tiling.threads}x${tiling.threads} threads x ${tiling.perThread} is exact on odd shapes`, async () => {
      await onBackend('webgpu', async () => {
        const failures: string[] = [];
        for (const p of [
          { batch: 67, inDim: 65, outDim: 63, activation: 'relu' },
          { batch: 5, inDim: 37, outDim: 29, activation: 'relu' },
        ] as DenseParams[]) {
          const x = fill('random', p.batch * p.inDim, 1);
          const w = fill('random', p.inDim * p.outDim, 2);
          const b = fill('random', p.outDim, 3);
          const dy = fill('random', p.batch * p.outDim, 4);
          const xt = tf.tensor2d(x, [p.batch, p.inDim]);
          const wt = tf.tensor2d(w, [p.inDim, p.outDim]);
          const dyt = tf.tensor2d(dy, [p.batch, p.outDim]);
          const attrs = { activation: p.activation, ...tiling };
          const run = (name: string, inputs: Record<string, tf.Tensor>) =>
            tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;
          const yt = run(FUSED_DENSE, { x: xt, w: wt, bias: tf.tensor1d(b) });
          const dx = run(DENSE_BACKPROP_INPUT, { dy: dyt, w: wt, y: yt });
          const dw = run(DENSE_BACKPROP_FILTER, { x: xt, dy: dyt, y: yt });
          const [y, dxv, dwv] = await Promise.all([yt.data(), dx.data(), dw.data()]);
          const fwd = denseForwardRef(x, w, b, p);
          const bwd = denseBackwardRef(dy, x, w, y, p);
          const tol = (magnitude: ArrayLike<number>) => ({ atol: 1e-6, rtol: 1e-5, magnitude });
          const name = `${p.batch}x${p.inDim}x${p.outDim}`;
          for (const r of [
            compare('dense', name, 'y', y, fwd.value, tol(fwd.magnitude)),
            compare('dense', name, 'dx', dxv, bwd.dx.value, tol(bwd.dx.magnitude)),
            compare('dense', name, 'dw', dwv, bwd.dw.value, tol(bwd.dw.magnitude)),
          ]) {
            if (!r.ok) failures.push(describeFailure(r));
          }
          tf.dispose([xt, wt, dyt, yt, dx, dw]);
        }
        expect(failures).toEqual([]);
      });
    });
  }
});
