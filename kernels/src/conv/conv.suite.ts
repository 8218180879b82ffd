/**
 * Correctness suites of the webgpu convolution kernels, one per kernel so a failure sets aside
 * only that kernel: each case runs the forward (tf.fused.conv2d with bias, or tf.conv2d without),
 * Conv2DBackpropInput or Conv2DBackpropFilter on the active backend (ours on webgpu) and on TF.js's
 * cpu backend (the reference), on the same seeded inputs. Cases are data: strides 1 and 2, 'same'
 * and 'valid' padding, dilation 1, channels 1 to 64, odd and non-square sizes, even filters
 * (asymmetric 'same' padding), batch 1 and more, linear/relu/relu6, both tilings and split-K.
 *
 * Tolerance: |err| <= 1e-6 + 1e-5 * sum|terms| per element (the dense and wasm-conv rule), where
 * sum|terms| is the same output computed on |inputs| on cpu, linear: cancellation in a sum cannot
 * make the bound vanish, while an indexing bug still misses by orders of magnitude.
 */
import * as tf from '@tensorflow/tfjs';
import { type CheckResult, compare, fill, type SuiteCase } from '../suite/check.ts';
import type { OpSuite } from '../suite/run.ts';
import { CONV2D, CONV2D_BACKPROP_FILTER, CONV2D_BACKPROP_INPUT } from './conv-kernel.ts';

// A type alias, not an interface: it must fit SuiteCase's Record<string, number | string>.
export type ConvParams = {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  filter: number;
  stride: number;
  pad: 'same' | 'valid';
  activation: 'linear' | 'relu' | 'relu6';
  /** 'no': tf.conv2d (TF.js's Conv2D kernel), 'yes': tf.fused.conv2d (FusedConv2D). */
  bias: 'yes' | 'no';
};

const conv = (
  name: string,
  batch: number,
  [height, width]: [number, number],
  [inChannels, outChannels]: [number, number],
  filter: number,
  stride: number,
  pad: ConvParams['pad'],
  activation: ConvParams['activation'] = 'linear',
  bias: ConvParams['bias'] = 'yes',
  fillKind: SuiteCase['fill'] = 'random',
): SuiteCase<ConvParams> => ({
  op: 'conv2d',
  name,
  fill: fillKind,
  params: { batch, height, width, inChannels, outChannels, filter, stride, pad, activation, bias },
});

/**
 * Left out of a quick (start-up) verification, which every webgpu tab runs before training: on a
 * CPU adapter each conv shader variant compiles in seconds, and six cases per pass made a tab's
 * start-up check about 18 s longer. The quick set keeps three cases per pass: the unfused
 * no-bias linear conv that training runs (TF.js runs fused.conv2d unfused under tf.grads; 64 to 4
 * channels, so the direct kernels of conv-direct.wgsl.ts), a fused bias + relu6 forward (direct),
 * and a fused bias + relu case past one 64x64 tile (65 channels: the GEMM's big tiling and tile
 * edges). The tests, the harness and `verifyKernels()` without `quick` run every case.
 */
const heavy = (c: SuiteCase<ConvParams>): SuiteCase<ConvParams> => ({ ...c, heavy: true });

export const CONV_CASES: SuiteCase<ConvParams>[] = [
  heavy(conv('1 channel valid odd 5x7 no bias', 1, [5, 7], [1, 1], 3, 1, 'valid', 'linear', 'no')),
  // 8 out channels: the direct forward with bias and relu6 (relu stays in the past-one-tile case).
  conv('same 3 to 8 batch 3 relu6', 3, [9, 8], [3, 8], 3, 1, 'same', 'relu6'),
  heavy(conv('stride 2 same 5x5 8 to 16 relu', 2, [11, 11], [8, 16], 5, 2, 'same', 'relu')),
  conv('stride 2 valid 64 in', 1, [13, 9], [64, 4], 3, 2, 'valid', 'linear', 'no'),
  heavy(conv('even filter same (asymmetric pad) 2 to 64', 2, [6, 6], [2, 64], 2, 1, 'same')),
  heavy(conv('5x5 valid 16 to 32 relu6', 1, [10, 10], [16, 32], 5, 1, 'valid', 'relu6')),
  heavy(conv('even filter stride 2 same', 3, [7, 9], [4, 6], 4, 2, 'same', 'relu')),
  heavy(conv('filter as large as the input', 2, [5, 5], [3, 7], 5, 1, 'valid')),
  heavy(conv('fashion cnn layer 1', 2, [28, 28], [1, 8], 5, 1, 'same', 'relu')),
  heavy(conv('fashion cnn layer 2', 2, [14, 14], [8, 16], 5, 1, 'same', 'relu')),
  heavy(conv('zeros', 2, [6, 5], [3, 4], 3, 2, 'same', 'relu', 'yes', 'zeros')),
  heavy(conv('large magnitudes', 2, [7, 6], [5, 3], 3, 1, 'valid', 'linear', 'yes', 'large')),
  heavy(conv('ramp stride 2 valid', 1, [9, 9], [2, 3], 3, 2, 'valid', 'relu', 'no', 'ramp')),
  // Past one 64x64 tile in M and N: the big tiling, and edges on both sides of a tile.
  conv('past one 64x64 tile, 16 to 65', 2, [8, 9], [16, 65], 3, 1, 'same', 'relu'),
];

type Output = 'y' | 'dx' | 'dw';
const rank4 = (s: number[]) => s as [number, number, number, number];

/** One output of the case on the active backend, from plain arrays (so both backends see the same data). */
async function output(
  which: Output,
  p: ConvParams,
  data: Record<'x' | 'w' | 'b' | 'dy', Float32Array>,
  abs: boolean,
) {
  const xShape = rank4([p.batch, p.height, p.width, p.inChannels]);
  const wShape = rank4([p.filter, p.filter, p.inChannels, p.outChannels]);
  const v = (a: Float32Array) => (abs ? a.map(Math.abs) : a);
  const out = tf.tidy(() => {
    const x = tf.tensor4d(v(data.x), xShape);
    const w = tf.tensor4d(v(data.w), wShape);
    const strides = p.stride;
    if (which === 'y') {
      if (p.bias === 'no') return tf.conv2d(x, w, strides, p.pad);
      const activation = abs ? 'linear' : p.activation;
      return tf.fused.conv2d({ x, filter: w, strides, pad: p.pad, bias: tf.tensor1d(v(data.b)), activation });
    }
    const outShape = tf.conv2d(
      tf.zeros(xShape) as tf.Tensor4D,
      tf.zeros(wShape) as tf.Tensor4D,
      strides,
      p.pad,
    ).shape;
    const dy = tf.tensor4d(v(data.dy), outShape);
    const attrs = { strides, pad: p.pad, dataFormat: 'NHWC' };
    if (which === 'dx') {
      return tf
        .engine()
        .runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: xShape }) as tf.Tensor;
    }
    return tf
      .engine()
      .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: wShape }) as tf.Tensor;
  });
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

async function onCpu<T>(fn: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  if (previous === 'cpu') return fn();
  await tf.setBackend('cpu');
  try {
    return await fn();
  } finally {
    await tf.setBackend(previous);
  }
}

export async function checkConv(which: Output, c: SuiteCase<ConvParams>): Promise<CheckResult[]> {
  const p = c.params;
  const [oh, ow] =
    p.pad === 'same'
      ? [Math.ceil(p.height / p.stride), Math.ceil(p.width / p.stride)]
      : [Math.ceil((p.height - p.filter + 1) / p.stride), Math.ceil((p.width - p.filter + 1) / p.stride)];
  const k = p.filter * p.filter * p.inChannels;
  const data = {
    x: fill(c.fill, p.batch * p.height * p.width * p.inChannels, 1),
    w: fill(c.fill, k * p.outChannels, 2, 1 / Math.sqrt(k)),
    b: fill(c.fill, p.outChannels, 3),
    dy: fill(c.fill, p.batch * oh * ow * p.outChannels, 4),
  };
  const got = await output(which, p, data, false);
  const want = await onCpu(() => output(which, p, data, false));
  const magnitude = await onCpu(() => output(which, p, data, true));
  return [compare(c.op, c.name, which, got, want, { atol: 1e-6, rtol: 1e-5, magnitude })];
}

const suite = (op: string, kernel: string, which: Output): OpSuite => ({
  op,
  kernels: [kernel],
  cases: CONV_CASES.map((c) => ({ ...c, op })) as SuiteCase[],
  check: (c) => checkConv(which, c as SuiteCase<unknown> as SuiteCase<ConvParams>),
});

export const CONV_SUITES: OpSuite[] = [
  suite('conv2d', CONV2D, 'y'),
  suite('conv2d-backprop-input', CONV2D_BACKPROP_INPUT, 'dx'),
  suite('conv2d-backprop-filter', CONV2D_BACKPROP_FILTER, 'dw'),
];
