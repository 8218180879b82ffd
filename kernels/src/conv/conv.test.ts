/**
 * The convolution suites on webgpu (our kernels, Dawn + SwiftShader here) and on TF.js's cpu
 * backend (the fallback path), both against TF.js's cpu kernels; that ours, not TF.js's webgpu
 * kernels, ran; every tiling and split-K on odd shapes; autodiff through a conv-pool model; and
 * the fallback to TF.js's kernels for calls ours does not take and for a kernel that fails its
 * check at start-up.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TILINGS } from '../dense/dense-kernel.ts';
import { installOverrides, overrideConfig, overrideRoutes } from '../gpu/override.ts';
import { kernelStatus, markKernel } from '../registry.ts';
import { compare, describeFailure, fill } from '../suite/check.ts';
import { runSuite } from '../suite/run.ts';
import { suiteFor } from '../suite/suites.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';
import { verifyKernels } from '../verify.ts';
import { CONV_CASES } from './conv.suite.ts';
import { conv2dBackpropFilterConfig } from './conv.ts';
import {
  CONV2D_BACKPROP_FILTER,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dForward,
  directFits,
} from './conv-kernel.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

const SLOW = 300_000; // shader compiles on SwiftShader take seconds each
const webgpu = () => tf.findBackend('webgpu') as WebGPUBackend;
const routes = (name: string) => overrideRoutes(webgpu(), name);

describe('conv suites', () => {
  for (const op of ['conv2d', 'conv2d-backprop-input', 'conv2d-backprop-filter']) {
    for (const backend of ['webgpu', 'cpu']) {
      it(`${op} passes every case on ${backend}`, { timeout: SLOW }, async () => {
        const before = routes('Conv2DBackpropInput').ours + routes('Conv2DBackpropFilter').ours;
        const results = await onBackend(backend, () => runSuite([suiteFor(op)]));
        expect(results.filter((r) => !r.ok).map(describeFailure)).toEqual([]);
        expect(results.length).toBe(CONV_CASES.length);
        const after = routes('Conv2DBackpropInput').ours + routes('Conv2DBackpropFilter').ours;
        // On webgpu every gradient case went through our kernel, not TF.js's webgpu one.
        if (op !== 'conv2d') expect(after - before).toBe(backend === 'webgpu' ? CONV_CASES.length : 0);
      });
    }
  }
});

/** x, W, dY of one odd case with 3x3 stride 2 'same' padding (asymmetric), 65 output channels. */
async function forcedVariants() {
  const [b, h, w, cin, cout] = [2, 9, 7, 5, 65];
  const x = tf.tensor4d(fill('random', b * h * w * cin, 1), [b, h, w, cin]);
  const filter = tf.tensor4d(fill('random', 9 * cin * cout, 2), [3, 3, cin, cout]);
  const bias = tf.tensor1d(fill('random', cout, 3));
  const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, 2, 1, 'same');
  const dy = tf.tensor4d(fill('random', b * 5 * 4 * cout, 4), [b, 5, 4, cout]);
  return { x, filter, bias, info, dy };
}

describe('conv variants', () => {
  it('every tiling and split-K count gives TF.js cpu results', { timeout: SLOW }, async () => {
    const { x, filter, bias, info, dy } = await forcedVariants();
    const attrs = { strides: 2, pad: 'same' as const, dataFormat: 'NHWC' };
    const cpu = await onBackend('cpu', async () => {
      const y = tf.fused.conv2d({ x, filter, bias, strides: 2, pad: 'same', activation: 'relu' });
      const dx = tf
        .engine()
        .runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: x.shape });
      const dw = tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape });
      return Promise.all([y, dx as tf.Tensor, dw as tf.Tensor].map((t) => t.data()));
    });
    const failures: string[] = [];
    await onBackend('webgpu', async () => {
      const backend = webgpu();
      for (const tiling of TILINGS) {
        for (const splits of [1, 2, 3]) {
          const opts = { tiling, splits };
          const outs = [
            conv2dForward(backend, info, x, filter, bias, 'relu', opts),
            conv2dBackpropInput(backend, info, dy, filter, opts),
            conv2dBackpropFilter(backend, info, x, dy, opts),
          ].map((t) => tf.engine().makeTensorFromTensorInfo(t));
          const got = await Promise.all(outs.map((t) => t.data()));
          tf.dispose(outs);
          ['y', 'dx', 'dw'].forEach((name, i) => {
            const r = compare(
              'conv',
              `${tiling.threads}x${tiling.perThread} split ${splits}`,
              name,
              got[i],
              cpu[i],
              {
                atol: 1e-5,
                rtol: 1e-4,
              },
            );
            if (!r.ok) failures.push(describeFailure(r));
          });
        }
      }
    });
    tf.dispose([x, filter, bias, dy]);
    expect(failures).toEqual([]);
  });

  // The direct (barrier-free, vec4 channel) kernels, forced, on geometries they must get right:
  // stride 2 with asymmetric 'same' padding, an even filter, a filter wider than the input, and
  // dW's row slices not dividing the rows.
  const directCases: [string, number[], number[], number, 'same' | 'valid'][] = [
    ['3x3 stride 2 same, 8 to 12', [2, 9, 7, 8], [3, 3, 8, 12], 2, 'same'],
    ['4x4 stride 1 same (asymmetric), 4 to 4', [1, 6, 5, 4], [4, 4, 4, 4], 1, 'same'],
    ['5x5 over a 3x2 input, same, 4 to 8', [2, 3, 2, 4], [5, 5, 4, 8], 1, 'same'],
    ['5x5 stride 1 valid, 1 to 8 (dX takes the GEMM)', [3, 8, 9, 1], [5, 5, 1, 8], 1, 'valid'],
  ];
  for (const [name, xShape, wShape, stride, pad] of directCases) {
    it(`the direct kernels give TF.js cpu results: ${name}`, { timeout: SLOW }, async () => {
      const [b, h, w, cin] = xShape;
      const cout = wShape[3];
      const x = tf.tensor4d(fill('random', b * h * w * cin, 11), xShape as [number, number, number, number]);
      const filter = tf.tensor4d(
        fill(
          'random',
          wShape.reduce((p, q) => p * q, 1),
          12,
        ),
        wShape as [number, number, number, number],
      );
      const bias = tf.tensor1d(fill('random', cout, 13));
      const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, stride, 1, pad);
      const dy = tf.tensor4d(fill('random', b * info.outHeight * info.outWidth * cout, 14), info.outShape);
      const attrs = { strides: stride, pad, dataFormat: 'NHWC' };
      const cpu = await onBackend('cpu', async () => {
        const y = tf.fused.conv2d({ x, filter, bias, strides: stride, pad, activation: 'relu6' });
        const dx = tf
          .engine()
          .runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: x.shape });
        const dw = tf
          .engine()
          .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape });
        return Promise.all([y, dx as tf.Tensor, dw as tf.Tensor].map((t) => t.data()));
      });
      const failures: string[] = [];
      await onBackend('webgpu', async () => {
        const backend = webgpu();
        expect(directFits('forward', info) && directFits('filter', info)).toBe(true);
        for (const splits of [1, 2, 5]) {
          const opts = { path: 'direct' as const, splits };
          const outs = [
            conv2dForward(backend, info, x, filter, bias, 'relu6', opts),
            conv2dBackpropInput(backend, info, dy, filter, directFits('input', info) ? opts : {}),
            conv2dBackpropFilter(backend, info, x, dy, opts),
          ].map((t) => tf.engine().makeTensorFromTensorInfo(t));
          const got = await Promise.all(outs.map((t) => t.data()));
          tf.dispose(outs);
          ['y', 'dx', 'dw'].forEach((out, i) => {
            const r = compare('conv', `direct split ${splits}`, out, got[i], cpu[i], {
              atol: 1e-5,
              rtol: 1e-4,
            });
            if (!r.ok) failures.push(describeFailure(r));
          });
        }
      });
      tf.dispose([x, filter, bias, dy]);
      expect(failures).toEqual([]);
    });
  }
});

/** Gradients of a small CNN's loss (conv relu, max pool, conv, avg pool) on the active backend. */
function cnnGrads(xs: Float32Array, ws: Float32Array[], bs: Float32Array) {
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, [3, 10, 9, 2]);
    const w1 = tf.tensor4d(ws[0], [3, 3, 2, 6]);
    const w2 = tf.tensor4d(ws[1], [3, 3, 6, 4]);
    const b1 = tf.tensor1d(bs);
    const loss = (xi: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
      const h = tf.fused.conv2d({
        x: xi as tf.Tensor4D,
        filter: a as tf.Tensor4D,
        bias: c,
        strides: 1,
        pad: 'same',
        activation: 'relu',
      });
      const p = tf.maxPool(h, 2, 2, 'valid');
      const h2 = tf.conv2d(p, b as tf.Tensor4D, 1, 'same');
      return tf.sum(
        tf.mul(tf.avgPool(h2, 2, 2, 'same'), tf.linspace(-1, 1, 3 * 3 * 2 * 4).reshape([3, 3, 2, 4])),
      );
    };
    return tf.grads(loss)([x, w1, w2, b1]);
  });
}

describe('conv autodiff', () => {
  it('a conv-pool model trains through our kernels with TF.js cpu gradients', { timeout: SLOW }, async () => {
    const xs = fill('random', 3 * 10 * 9 * 2, 5);
    const ws = [fill('random', 3 * 3 * 2 * 6, 6), fill('random', 3 * 3 * 6 * 4, 7)];
    const bs = fill('random', 6, 8);
    // Under tf.grads, TF.js runs fused.conv2d unfused (Conv2D, add, relu); FusedConv2D is the suite's.
    const names = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPoolGrad', 'AvgPoolGrad'];
    const before = names.map((n) => routes(n).ours);
    const got = await onBackend('webgpu', async () => {
      const g = cnnGrads(xs, ws, bs);
      const data = await Promise.all(g.map((t) => t.data()));
      tf.dispose(g);
      return data;
    });
    const ran = names.map((n, i) => routes(n).ours - before[i]);
    expect(
      ran.every((n) => n > 0),
      `ours ran ${names.map((n, i) => `${n} ${ran[i]}`).join(', ')}`,
    ).toBe(true);
    const want = await onBackend('cpu', async () => {
      const g = cnnGrads(xs, ws, bs);
      const data = await Promise.all(g.map((t) => t.data()));
      tf.dispose(g);
      return data;
    });
    const failures = got
      .map((g, i) => {
        const scale = Math.max(...Array.from(want[i], Math.abs));
        return compare('cnn', 'grads', ['x', 'w1', 'w2', 'b1'][i], g, want[i], {
          atol: 1e-5 * scale,
          rtol: 1e-4,
        });
      })
      .filter((r) => !r.ok)
      .map(describeFailure);
    expect(failures).toEqual([]);
  });
});

describe('conv fallback', () => {
  it('routes NCHW and dilated convolutions to TF.js kernels', async () => {
    await onBackend('webgpu', async () => {
      const x = tf.tensor4d(fill('random', 2 * 3 * 6 * 6, 9), [2, 6, 6, 3]);
      const w = tf.tensor4d(fill('random', 9 * 3 * 4, 10), [3, 3, 3, 4]);
      const before = routes('Conv2D');
      const dilated = tf.conv2d(x, w, 1, 'same', 'NHWC', 2);
      const after = routes('Conv2D');
      expect(after.tfjs - before.tfjs).toBe(1);
      expect(after.ours).toBe(before.ours);
      const got = await dilated.data();
      const xs = await x.data();
      const wsd = await w.data();
      const want = await onBackend('cpu', async () =>
        tf.conv2d(tf.tensor4d(xs, [2, 6, 6, 3]), tf.tensor4d(wsd, [3, 3, 3, 4]), 1, 'same', 'NHWC', 2).data(),
      );
      const r = compare('conv', 'dilated', 'y', got, want, { atol: 1e-5, rtol: 1e-4 });
      expect(r.ok, describeFailure(r)).toBe(true);
      tf.dispose([x, w, dilated]);
    });
  });

  it('a kernel that fails its start-up check falls back to TF.js and stays correct', {
    timeout: SLOW,
  }, async () => {
    await onBackend('webgpu', async () => {
      const backend = webgpu();
      // An indexing bug: dW read one row off (the padding shifted).
      const broken = overrideConfig<{ x: tf.TensorInfo; dy: tf.TensorInfo }>({
        kernelName: 'Conv2DBackpropFilter',
        ours: CONV2D_BACKPROP_FILTER,
        plan: ({ inputs: { x, dy }, attrs }) => {
          const info = tf.backend_util.computeConv2DInfo(
            x.shape as [number, number, number, number],
            attrs.filterShape as [number, number, number, number],
            attrs.strides as number,
            1,
            attrs.pad as 'same',
          );
          const shifted = { ...info, padInfo: { ...info.padInfo, top: info.padInfo.top + 1 } };
          return { maxBytes: 4, run: (b) => conv2dBackpropFilter(b, shifted, x, dy) };
        },
      });
      installOverrides([broken]);
      try {
        await verifyKernels({ quick: true, ops: ['conv2d-backprop-filter'] });
        expect(kernelStatus(backend, CONV2D_BACKPROP_FILTER).state).toBe('failed');
        expect(kernelStatus(backend, CONV2D_BACKPROP_FILTER).reason).toMatch(/conv2d-backprop-filter/);
        const before = routes('Conv2DBackpropFilter');
        const results = await runSuite([suiteFor('conv2d-backprop-filter')], (c) => !c.heavy);
        expect(results.filter((r) => !r.ok).map(describeFailure)).toEqual([]);
        const after = routes('Conv2DBackpropFilter');
        expect(after.ours).toBe(before.ours);
        expect(after.tfjs).toBeGreaterThan(before.tfjs);
      } finally {
        installOverrides([conv2dBackpropFilterConfig]);
        markKernel(backend, CONV2D_BACKPROP_FILTER, { state: 'unverified' });
      }
    });
  });
});
