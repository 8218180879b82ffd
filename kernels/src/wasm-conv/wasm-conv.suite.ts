/**
 * Correctness suite of the wasm convolution gradients: each case runs Conv2DBackpropFilter and
 * Conv2DBackpropInput on the wasm backend (ours) and on TF.js's cpu backend (the reference), on
 * the same seeded inputs. Cases are data: strides 1 and 2, 'same' / 'valid' / numeric padding
 * (including one wider than the filter, which takes the col2im path at stride 1), channels 1 to
 * 64, odd and non-square sizes, even filters (asymmetric 'same' padding), batch 1 and 7.
 *
 * Tolerance: |err| <= 1e-6 + 1e-5 * sum|terms| per element, the dense suite's rule; sum|terms|
 * is the same gradient computed on |inputs| on cpu, so cancellation in a sum does not make the
 * bound vanish while an indexing bug still misses by orders of magnitude.
 */
import * as tf from '@tensorflow/tfjs';
import { type CheckResult, compare, fill, type SuiteCase } from '../suite/check.ts';
import type { OpSuite } from '../suite/run.ts';

// A type alias, not an interface: it must fit SuiteCase's Record<string, number | string>.
export type ConvCaseParams = {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  filter: number;
  stride: number;
  pad: 'same' | 'valid' | number;
};

const conv = (
  name: string,
  batch: number,
  [height, width]: [number, number],
  [inChannels, outChannels]: [number, number],
  filter: number,
  stride: number,
  pad: ConvCaseParams['pad'],
): SuiteCase<ConvCaseParams> => ({
  op: 'wasm-conv',
  name,
  fill: 'random',
  params: { batch, height, width, inChannels, outChannels, filter, stride, pad },
});

export const WASM_CONV_CASES: SuiteCase<ConvCaseParams>[] = [
  conv('1x1 channel, valid, odd sizes', 1, [5, 7], [1, 1], 3, 1, 'valid'),
  conv('same, 3 to 5 channels, batch 7', 7, [9, 8], [3, 5], 3, 1, 'same'),
  conv('stride 2 same 5x5', 7, [11, 11], [8, 16], 5, 2, 'same'),
  conv('stride 2 valid, 64 in', 1, [13, 9], [64, 4], 3, 2, 'valid'),
  conv('even filter same (asymmetric pad), 64 out', 7, [6, 6], [2, 64], 2, 1, 'same'),
  conv('5x5 valid, 16 to 32', 1, [10, 10], [16, 32], 5, 1, 'valid'),
  conv('even filter stride 2 same', 7, [7, 9], [4, 6], 4, 2, 'same'),
  conv('numeric pad 2', 1, [8, 8], [3, 2], 3, 1, 2),
  conv('pad wider than the filter (col2im path)', 7, [6, 5], [3, 3], 3, 1, 3),
  conv('fashion cnn first layer', 7, [28, 28], [1, 8], 5, 1, 'valid'),
];

interface Grads {
  dw: Float32Array;
  dx: Float32Array;
}

function gradients(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D, p: ConvCaseParams): Grads {
  return tf.tidy(() => {
    const attrs = { strides: p.stride, pad: p.pad, dataFormat: 'NHWC' };
    const dw = tf
      .engine()
      .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor;
    const dx = tf
      .engine()
      .runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor;
    return { dw: dw.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  });
}

async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend(name);
  try {
    return fn();
  } finally {
    await tf.setBackend(previous);
  }
}

export async function checkWasmConv(c: SuiteCase<ConvCaseParams>): Promise<CheckResult[]> {
  const p = c.params;
  const xShape: [number, number, number, number] = [p.batch, p.height, p.width, p.inChannels];
  const wShape: [number, number, number, number] = [p.filter, p.filter, p.inChannels, p.outChannels];
  const outShape = tf.conv2d(
    tf.zeros(xShape) as tf.Tensor4D,
    tf.zeros(wShape) as tf.Tensor4D,
    p.stride,
    p.pad,
  ).shape;
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const xs = fill(c.fill, size(xShape), 1);
  const ws = fill(c.fill, size(wShape), 2);
  const dys = fill(c.fill, size(outShape), 3);
  const run = (abs: boolean) => () => {
    const v = (a: Float32Array) => (abs ? a.map(Math.abs) : a);
    const x = tf.tensor4d(v(xs), xShape);
    const w = tf.tensor4d(v(ws), wShape);
    const dy = tf.tensor4d(v(dys), outShape as [number, number, number, number]);
    try {
      return gradients(x, w, dy, p);
    } finally {
      tf.dispose([x, w, dy]);
    }
  };
  const got = await onBackend('wasm', run(false));
  const want = await onBackend('cpu', run(false));
  const magnitude = await onBackend('cpu', run(true));
  const tol = (m: Float32Array) => ({ atol: 1e-6, rtol: 1e-5, magnitude: m });
  return [
    compare(c.op, c.name, 'dW', got.dw, want.dw, tol(magnitude.dw)),
    compare(c.op, c.name, 'dX', got.dx, want.dx, tol(magnitude.dx)),
  ];
}

export const wasmConvSuite: OpSuite = {
  op: 'wasm-conv',
  kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
  cases: WASM_CONV_CASES as SuiteCase[],
  check: (c) => checkWasmConv(c as SuiteCase<ConvCaseParams>),
};
