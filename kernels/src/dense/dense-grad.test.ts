/**
 * Gradient check: autodiff through our fused dense op on webgpu (which runs the fused backward
 * kernels through the registered gradient) matches TF.js's autodiff of the unfused graph
 * relu(matMul(x, w) + b) on the cpu backend, for the demo MLP (784-128-10, batch 64) and odd shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, describeFailure, fill } from '../suite/check.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';
import { fusedDense } from './dense.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

interface Layer {
  inDim: number;
  outDim: number;
  relu: boolean;
}

/** Deterministic parameters and a batch with one-hot labels for a stack of dense layers. */
function problem(batch: number, layers: Layer[]) {
  const params = layers.flatMap((l, i) => [
    fill('random', l.inDim * l.outDim, 10 + i, 1 / Math.sqrt(l.inDim)),
    fill('random', l.outDim, 20 + i, 0.1),
  ]);
  const x = fill('random', batch * layers[0].inDim, 1);
  const classes = layers[layers.length - 1].outDim;
  const labels = new Float32Array(batch * classes);
  for (let b = 0; b < batch; b++) labels[b * classes + ((b * 7) % classes)] = 1;
  return { params, x, labels, classes };
}

/** Gradients of mean softmax cross-entropy w.r.t. every parameter, on the active backend. */
async function gradients(batch: number, layers: Layer[], fused: boolean): Promise<Float32Array[]> {
  const p = problem(batch, layers);
  const vars = layers.flatMap((l, i) => [
    tf.tensor2d(p.params[2 * i], [l.inDim, l.outDim]),
    tf.tensor1d(p.params[2 * i + 1]),
  ]);
  const x = tf.tensor2d(p.x, [batch, layers[0].inDim]);
  const labels = tf.tensor2d(p.labels, [batch, p.classes]);
  const loss = (...ps: tf.Tensor[]) => {
    let h = x;
    layers.forEach((l, i) => {
      const w = ps[2 * i] as tf.Tensor2D;
      const b = ps[2 * i + 1] as tf.Tensor1D;
      if (fused) h = fusedDense(h, w, b, l.relu ? 'relu' : 'linear');
      else {
        const z = tf.add(tf.matMul(h, w), b) as tf.Tensor2D;
        h = l.relu ? tf.relu(z) : z;
      }
    });
    return tf.losses.softmaxCrossEntropy(labels, h) as tf.Scalar;
  };
  const grads = tf.grads(loss)(vars);
  const out = await Promise.all(grads.map((g) => g.data() as Promise<Float32Array>));
  tf.dispose([...grads, ...vars, x, labels]);
  return out;
}

const MODELS: Array<{ name: string; batch: number; layers: Layer[] }> = [
  {
    name: 'demo MLP 784-128-10, batch 64',
    batch: 64,
    layers: [
      { inDim: 784, outDim: 128, relu: true },
      { inDim: 128, outDim: 10, relu: false },
    ],
  },
  {
    name: 'odd 37-65-3, batch 7',
    batch: 7,
    layers: [
      { inDim: 37, outDim: 65, relu: true },
      { inDim: 65, outDim: 3, relu: false },
    ],
  },
  { name: 'single relu layer 130-17, batch 1', batch: 1, layers: [{ inDim: 130, outDim: 17, relu: true }] },
];

describe('fused dense gradient check', () => {
  for (const model of MODELS) {
    it(`matches TF.js autodiff of the unfused graph: ${model.name}`, async () => {
      const want = await onBackend('cpu', () => gradients(model.batch, model.layers, false));
      const got = await onBackend('webgpu', () => gradients(model.batch, model.layers, true));
      const names = model.layers.flatMap((_, i) => [`w${i}`, `b${i}`]);
      // Both sides are float32 with different summation orders; the scale of each gradient
      // tensor sets the absolute floor, so near-zero entries do not demand relative accuracy.
      const failures = want
        .map((w, i) => {
          const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          return compare('dense-grad', model.name, names[i], got[i], w, {
            atol: 1e-5 * scale + 1e-7,
            rtol: 1e-3,
          });
        })
        .filter((r) => !r.ok)
        .map(describeFailure);
      expect(failures).toEqual([]);
    });
  }

  it('computes gradients with our backward kernels on webgpu', async () => {
    await onBackend('webgpu', async () => {
      const x = tf.ones([3, 5]) as tf.Tensor2D;
      const w = tf.ones([5, 2]) as tf.Tensor2D;
      const b = tf.zeros([2]) as tf.Tensor1D;
      const profile = await tf.profile(() =>
        tf.grads((wv: tf.Tensor) => tf.sum(fusedDense(x, wv as tf.Tensor2D, b, 'relu')))([w]),
      );
      expect(profile.kernelNames).toContain('GridTabDenseBackpropFilter');
      expect(profile.kernelNames).not.toContain('BatchMatMul');
      tf.dispose([x, w, b]);
    });
  });
});
