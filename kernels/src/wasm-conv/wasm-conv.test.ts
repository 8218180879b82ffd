/**
 * The wasm convolution gradients: the parity suite against TF.js's cpu backend, im2col/col2im
 * against float64 loops, and a Fashion-MNIST-shaped CNN that trains on wasm to the same weights
 * as on cpu (what spot-check recompute relies on).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeFailure, fill } from '../suite/check.ts';
import { runSuite } from '../suite/run.ts';
import { type ConvGeometry, col2im, colsShape, im2col } from './im2col.ts';
import { wasmConvSuite } from './wasm-conv.suite.ts';
import { registerWasmConvKernels, WASM_CONV_CONFIGS } from './wasm-conv.ts';

beforeAll(async () => {
  registerWasmConvKernels();
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('wasm conv gradients', () => {
  it('registers ours on wasm, replacing TF.js Conv2DBackpropInput, idempotently', () => {
    registerWasmConvKernels();
    for (const config of WASM_CONV_CONFIGS) {
      expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
    }
  });

  it('matches the cpu backend on every case', async () => {
    const results = await runSuite([wasmConvSuite]);
    expect(results.filter((r) => !r.ok).map(describeFailure)).toEqual([]);
    expect(results.length).toBe(wasmConvSuite.cases.length * 2);
  }, 120_000);

  it('im2col and col2im are adjoint and match a float64 gather', () => {
    const g: ConvGeometry = {
      batchSize: 2,
      inHeight: 5,
      inWidth: 6,
      inChannels: 3,
      outHeight: 3,
      outWidth: 3,
      filterHeight: 3,
      filterWidth: 2,
      strideHeight: 2,
      strideWidth: 2,
      dilationHeight: 1,
      dilationWidth: 1,
      padInfo: { top: 1, left: 0 },
    };
    const [m, k] = colsShape(g);
    const x = fill('random', 2 * 5 * 6 * 3, 7);
    const cols = new Float32Array(m * k);
    im2col(x, g, cols);
    let row = 0;
    for (let n = 0; n < 2; n++)
      for (let oy = 0; oy < 3; oy++)
        for (let ox = 0; ox < 3; ox++, row++)
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 2; kx++)
              for (let c = 0; c < 3; c++) {
                const iy = oy * 2 + ky - 1;
                const ix = ox * 2 + kx;
                const inside = iy >= 0 && iy < 5 && ix >= 0 && ix < 6;
                const want = inside ? x[((n * 5 + iy) * 6 + ix) * 3 + c] : 0;
                expect(cols[row * k + (ky * 2 + kx) * 3 + c]).toBe(want);
              }
    // <im2col(x), c> == <x, col2im(c)> for any c: col2im is im2col's transpose.
    const c = fill('random', m * k, 8);
    const back = new Float32Array(x.length);
    col2im(c, g, back);
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < cols.length; i++) lhs += cols[i] * c[i];
    for (let i = 0; i < x.length; i++) rhs += x[i] * back[i];
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.abs(lhs) + 1e-4);
  });

  it('trains a CNN on wasm to the weights cpu reaches', async () => {
    const build = () => {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [12, 12, 1],
            filters: 4,
            kernelSize: 5,
            activation: 'relu',
            seed: 1,
          } as never),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
          tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 3, activation: 'softmax' }),
        ],
      });
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
      return model;
    };
    const xs = fill('random', 7 * 12 * 12, 11);
    const labels = Array.from({ length: 7 }, (_, i) => i % 3);
    const weights = fill('random', 10_000, 12, 0.3);
    const trainOn = async (backend: string) => {
      await tf.setBackend(backend);
      const model = build();
      let offset = 0;
      model.setWeights(
        model.getWeights().map((w) => {
          const t = tf.tensor(weights.slice(offset, offset + w.size), w.shape);
          offset += w.size;
          return t;
        }),
      );
      const x = tf.tensor4d(xs, [7, 12, 12, 1]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
      const losses: number[] = [];
      for (let step = 0; step < 5; step++) losses.push((await model.trainOnBatch(x, y)) as number);
      const out = model.getWeights().map((w) => w.dataSync().slice());
      tf.dispose([x, y]);
      model.dispose();
      return { losses, out };
    };
    const wasm = await trainOn('wasm');
    const cpu = await trainOn('cpu');
    await tf.setBackend('wasm');
    expect(wasm.losses[4]).toBeLessThan(wasm.losses[0]);
    for (let i = 0; i < wasm.losses.length; i++) expect(wasm.losses[i]).toBeCloseTo(cpu.losses[i], 4);
    for (let l = 0; l < cpu.out.length; l++) {
      for (let i = 0; i < cpu.out[l].length; i++) {
        expect(Math.abs(wasm.out[l][i] - cpu.out[l][i])).toBeLessThan(1e-4 + 1e-4 * Math.abs(cpu.out[l][i]));
      }
    }
  }, 120_000);
});
