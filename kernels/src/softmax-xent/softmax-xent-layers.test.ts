/**
 * The fused loss is the layers loss: its value and gradient equal TF.js autodiff (cpu backend) of
 * categorical cross-entropy on softmax outputs with its probability clipping, on our webgpu kernel
 * (Dawn + SwiftShader here) and on the TF.js fallback (cpu). The cases are those where clipping
 * decides the gradient: very confident correct rows, confidently wrong rows, soft labels with a
 * clipped class; ordinary logits are the control. Two clip ranges: the layers API's default
 * [1e-7, 1 - 1e-7] and the trainer's crossEntropyPerSample [1e-7, 1].
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';
import {
  type SoftmaxXent,
  softmaxCrossEntropy,
  softmaxCrossEntropyLoss,
  softmaxCrossEntropyTfjs,
} from './softmax-xent.ts';
import { SOFTMAX_XENT } from './softmax-xent-kernel.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

const C = 6;
const hot = (k: number, v = 1) => Array.from({ length: C }, (_, j) => (j === k ? v : 0));
/** An ordinary row in every case, so each batch's mean divides by more than the rows it tests. */
const plain = { z: [0.3, -1.2, 2.1, 0.5, -0.4, 1.0], y: hot(2) };

interface Case {
  name: string;
  rows: { z: number[]; y: number[] }[];
  /** What makes the case: checked on the float64 softmax so the case cannot drift into another. */
  premise: (p: number[][]) => boolean;
}

const cases: Case[] = [
  {
    name: 'ordinary logits',
    rows: [
      plain,
      { z: [-2, 1.5, 0.2, 0.9, -0.7, 0.1], y: hot(0) },
      { z: [0.8, 0.8, -1.5, 2.5, 0, -3], y: hot(4) },
    ],
    premise: (p) => p.every((r) => r.every((v) => v > 1e-4 && v < 0.99)),
  },
  {
    // Alone: one-hot rows this confident have a gradient below float32 resolution either way, so
    // the loss tells the clipped from the unclipped here (-log(1 - 1e-7) against 0).
    name: 'very confident correct rows (p_y > 1 - 1e-7)',
    rows: [
      { z: [25, 0.5, -1, 0.2, 1, -0.3], y: hot(0) },
      { z: [-0.5, 0, 30, 1, -2, 0.7], y: hot(2) },
    ],
    premise: (p) => p[0][0] > 1 - 1e-7 && p[1][2] > 1 - 1e-7,
  },
  {
    name: 'confidently wrong rows (p_y < 1e-7)',
    rows: [{ z: [20, 0, -1, 0.5, 0.2, -0.3], y: hot(2) }, { z: [0.5, 12, 11, -10, 0, 1], y: hot(3) }, plain],
    premise: (p) => p[0][2] < 1e-7 && p[1][3] < 1e-7,
  },
  {
    name: 'soft labels, one clipped class each',
    rows: [
      { z: [3, 2, -20, 0, 1, -1], y: [0.5, 0.3, 0.2, 0, 0, 0] },
      { z: [18, -1, 0, -1, 1, 0.5], y: [0.6, 0, 0, 0.4, 0, 0] },
      // Labels need not sum to 1.
      { z: [0.2, -0.4, 1.1, -19, -2, 0.9], y: [0.3, 0.2, 0.3, 0.6, 0.2, 0.4] },
      plain,
    ],
    premise: (p) => p[0][2] < 1e-7 && p[1][0] > 1 - 1e-7 && p[1][3] < 1e-7 && p[2][3] < 1e-7,
  },
];

const ranges = [
  { name: 'layers default [1e-7, 1 - 1e-7]', eps: undefined, maxProb: undefined, min: 1e-7, max: 1 - 1e-7 },
  { name: 'crossEntropyPerSample [1e-7, 1]', eps: 1e-7, maxProb: 1, min: 1e-7, max: 1 },
];

/** The layers formula with plain TF.js ops (tf.metrics.categoricalCrossentropy plus clip bounds). */
function layersLoss(z: tf.Tensor, y: tf.Tensor, min: number, max: number): tf.Scalar {
  const s = tf.softmax(z);
  const p = tf.clipByValue(tf.div(s, tf.sum(s, -1, true)), min, max);
  return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(p)), -1)));
}

function softmax64(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Float32 agreement: 1e-5 relative, plus `atol` (gradient entries near 0 carry ~1e-7 of rounding). */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, atol = 1e-6) {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    expect(err, `${what}[${i}]: got ${got[i]}, want ${want[i]}`).toBeLessThanOrEqual(
      atol + 1e-5 * Math.abs(want[i]),
    );
  }
}

describe('fused softmax cross-entropy equals the layers loss', () => {
  it('whose formula here is tf.metrics.categoricalCrossentropy on softmax outputs', async () => {
    await onBackend('cpu', async () => {
      const z = tf.tensor2d(cases.flatMap((c) => c.rows.map((r) => r.z)));
      const y = tf.tensor2d(cases.flatMap((c) => c.rows.map((r) => r.y)));
      const ours = tf.valueAndGrad((t: tf.Tensor) => layersLoss(t, y, 1e-7, 1 - 1e-7))(z);
      const keras = tf.valueAndGrad((t: tf.Tensor) =>
        tf.mean(tf.metrics.categoricalCrossentropy(y, tf.softmax(t))),
      )(z);
      expectClose(await ours.value.data(), await keras.value.data(), 'loss');
      expectClose(await ours.grad.data(), await keras.grad.data(), 'grad');
      tf.dispose([z, y, ours.value, ours.grad, keras.value, keras.grad]);
    });
  });

  for (const c of cases) {
    it(`premise holds: ${c.name}`, () => {
      expect(c.premise(c.rows.map((r) => softmax64(r.z)))).toBe(true);
    });
    for (const range of ranges) {
      for (const backend of ['webgpu', 'cpu']) {
        it(`${c.name}, ${range.name}, on ${backend}`, async () => {
          const shape: [number, number] = [c.rows.length, C];
          const z = Float32Array.from(c.rows.flatMap((r) => r.z));
          const y = Float32Array.from(c.rows.flatMap((r) => r.y));
          const want = await onBackend('cpu', async () => {
            const [zt, yt] = [tf.tensor2d(z, shape), tf.tensor2d(y, shape)];
            const { value, grad } = tf.valueAndGrad((t: tf.Tensor) =>
              layersLoss(t, yt, range.min, range.max),
            )(zt);
            const out = { loss: await value.data(), grad: await grad.data() };
            tf.dispose([zt, yt, value, grad]);
            return out;
          });
          await onBackend(backend, async () => {
            const [zt, yt] = [tf.tensor2d(z, shape), tf.tensor2d(y, shape)];
            let fused!: SoftmaxXent;
            const profile = await tf.profile(() => {
              fused = softmaxCrossEntropy(zt, yt, range.eps, range.maxProb);
              return [fused.loss, fused.grad];
            });
            if (backend === 'webgpu') expect(profile.kernelNames).toContain(SOFTMAX_XENT);
            const viaGrad = tf.grad((t: tf.Tensor) =>
              softmaxCrossEntropyLoss(t as tf.Tensor2D, yt, range.eps, range.maxProb),
            )(zt);
            expectClose(await fused.grad.data(), want.grad, 'grad');
            expectClose(await viaGrad.data(), want.grad, 'autodiff grad');
            expectClose(await fused.loss.data(), want.loss, 'loss', 1e-9);
            tf.dispose([zt, yt, fused.loss, fused.grad, viaGrad]);
          });
        });
      }
    }
  }

  it('reads labels cast from int32 on webgpu (they share the int32 buffer)', async () => {
    await onBackend('webgpu', async () => {
      const z = tf.tensor2d([plain.z, [2, -1, 0.5, 0, 1, -3]]);
      const cast = tf.oneHot(tf.tensor1d([2, 4], 'int32'), C).toFloat() as tf.Tensor2D;
      const copied = tf.tensor2d([hot(2), hot(4)]);
      const a = softmaxCrossEntropy(z as tf.Tensor2D, cast);
      const b = softmaxCrossEntropy(z as tf.Tensor2D, copied);
      expectClose(await a.grad.data(), await b.grad.data(), 'grad');
      expectClose(await a.loss.data(), await b.loss.data(), 'loss', 1e-9);
      expect(Math.abs((await b.grad.data())[2])).toBeGreaterThan(0.01);
      tf.dispose([z, cast, copied, a.loss, a.grad, b.loss, b.grad]);
    });
  });

  it('refuses clip bounds that leave no range', async () => {
    await onBackend('cpu', async () => {
      const z = tf.zeros([2, 3]) as tf.Tensor2D;
      for (const [eps, maxProb] of [
        [-1e-7, 1],
        [0.5, 0.5],
        [1e-7, 1.5],
        [Number.NaN, 1],
      ]) {
        expect(() => softmaxCrossEntropy(z, z, eps, maxProb)).toThrow(/need 0 <= eps < maxProb <= 1/);
        expect(() => softmaxCrossEntropyTfjs(z, z, eps, maxProb)).toThrow(/need 0 <= eps < maxProb <= 1/);
      }
      z.dispose();
    });
  });
});
