/**
 * Benchmark cases of the convolution and pooling-gradient kernels. Ours stand in for TF.js's
 * webgpu kernels under TF.js's own names (gpu/override.ts), so both sides call the same TF.js op;
 * the baseline marks our kernels `prefer: 'tfjs'` for the call, which routes it to TF.js's
 * original webgpu kernel on the same adapter (the route the override takes after calibration).
 * Shapes: the `fashion-cnn` preset's layers at batch 64 (conv 5x5x8 and 5x5x16 'same', 2x2 max
 * pools); `full` adds a ResNet-like 3x3 layer only a real GPU gets through quickly.
 */

import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { CONV2D, CONV2D_BACKPROP_FILTER, CONV2D_BACKPROP_INPUT } from '../conv/conv-kernel.ts';
import { AVG_POOL_GRAD, MAX_POOL_GRAD } from '../pool-grad/pool-grad-kernel.ts';
import { kernelStatus, markKernel } from '../registry.ts';
import type { BenchCase } from './cases.ts';

type Shape4 = [number, number, number, number];
const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** Runs `fn` (a synchronous op dispatch) with `kernels` routed to TF.js's original kernels. */
function viaTfjs<T>(kernels: string[], fn: () => T): T {
  if (tf.getBackend() !== 'webgpu') return fn();
  const backend = tf.backend();
  const saved = kernels.map((k) => kernelStatus(backend, k));
  kernels.forEach((k, i) => {
    markKernel(backend, k, { ...saved[i], prefer: 'tfjs' });
  });
  try {
    return fn();
  } finally {
    kernels.forEach((k, i) => {
      markKernel(backend, k, saved[i]);
    });
  }
}

interface ConvShape {
  batch: number;
  size: number;
  inChannels: number;
  outChannels: number;
  filter: number;
  /** The model's name for the layer, shown in the table. */
  label: string;
}

const describe = (s: ConvShape) =>
  `${s.label}: ${s.batch}x${s.size}x${s.size}x${s.inChannels}, ${s.filter}x${s.filter}x${s.inChannels}x${s.outChannels} same`;
/** Multiply-adds x 2 of one pass ('same', stride 1: output as large as the input). */
const convFlops = (s: ConvShape) =>
  2 * s.batch * s.size * s.size * s.outChannels * s.filter * s.filter * s.inChannels;

function convInputs(s: ConvShape) {
  const xShape: Shape4 = [s.batch, s.size, s.size, s.inChannels];
  const wShape: Shape4 = [s.filter, s.filter, s.inChannels, s.outChannels];
  const yShape: Shape4 = [s.batch, s.size, s.size, s.outChannels];
  const scale = 1 / Math.sqrt(s.filter * s.filter * s.inChannels);
  return {
    xShape,
    wShape,
    x: rand(xShape, 40) as Tensor4D,
    w: tf.mul(rand(wShape, 41), scale) as Tensor4D,
    b: rand([s.outChannels], 42),
    dy: rand(yShape, 43) as Tensor4D,
  };
}

function convForward(s: ConvShape, demo: boolean): BenchCase {
  return {
    kernel: 'conv2d forward (+bias+relu)',
    kernels: [CONV2D],
    demo,
    shape: describe(s),
    flops: convFlops(s),
    setup() {
      const { x, w, b, dy } = convInputs(s);
      const run = () =>
        tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same', bias: b, activation: 'relu' });
      return {
        ours: run,
        tfjs: () => viaTfjs([CONV2D], run),
        tfjsLabel: 'TF.js webgpu FusedConv2D',
        dispose: () => tf.dispose([x, w, b, dy]),
      };
    },
  };
}

function convGrad(which: 'input' | 'filter', s: ConvShape, demo: boolean): BenchCase {
  const kernel = which === 'input' ? CONV2D_BACKPROP_INPUT : CONV2D_BACKPROP_FILTER;
  const name = which === 'input' ? 'Conv2DBackpropInput' : 'Conv2DBackpropFilter';
  return {
    kernel: which === 'input' ? 'conv2d backprop dX' : 'conv2d backprop dW',
    kernels: [kernel],
    demo,
    shape: describe(s),
    flops: convFlops(s),
    setup() {
      const { x, w, b, dy, xShape, wShape } = convInputs(s);
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
      const run = (): Tensor =>
        which === 'input'
          ? (tf.engine().runKernel(name, { dy, filter: w }, { ...attrs, inputShape: xShape }) as Tensor)
          : (tf.engine().runKernel(name, { x, dy }, { ...attrs, filterShape: wShape }) as Tensor);
      return {
        ours: run,
        tfjs: () => viaTfjs([kernel], run),
        tfjsLabel: `TF.js webgpu ${name}`,
        dispose: () => tf.dispose([x, w, b, dy]),
      };
    },
  };
}

function poolGrad(
  kind: 'max' | 'avg',
  batch: number,
  size: number,
  channels: number,
  demo: boolean,
): BenchCase {
  const kernel = kind === 'max' ? MAX_POOL_GRAD : AVG_POOL_GRAD;
  const name = kind === 'max' ? 'MaxPoolGrad' : 'AvgPoolGrad';
  const inSize = batch * size * size * channels;
  const outSize = inSize / 4;
  return {
    kernel: `${name} 2x2 stride 2`,
    kernels: [kernel],
    demo,
    shape: `${batch}x${size}x${size}x${channels}`,
    // dX written, dY read, and for max pooling the input and the pool's output read too.
    bytes: 4 * (inSize + outSize + (kind === 'max' ? inSize + outSize : 0)),
    setup() {
      const x = rand([batch, size, size, channels], 44) as Tensor4D;
      const y = kind === 'max' ? tf.maxPool(x, 2, 2, 'valid') : tf.avgPool(x, 2, 2, 'valid');
      const dy = rand(y.shape, 45);
      const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
      const run = (): Tensor =>
        kind === 'max'
          ? (tf.engine().runKernel(name, { dy, input: x, output: y }, attrs) as Tensor)
          : (tf.engine().runKernel(name, { dy, input: x }, attrs) as Tensor);
      return {
        ours: run,
        tfjs: () => viaTfjs([kernel], run),
        tfjsLabel: `TF.js webgpu ${name}`,
        dispose: () => tf.dispose([x, y, dy]),
      };
    },
  };
}

/** The fashion-cnn preset's two conv layers at batch 64. */
const LAYER1: ConvShape = {
  label: 'fashion-cnn conv1',
  batch: 64,
  size: 28,
  inChannels: 1,
  outChannels: 8,
  filter: 5,
};
const LAYER2: ConvShape = {
  label: 'fashion-cnn conv2',
  batch: 64,
  size: 14,
  inChannels: 8,
  outChannels: 16,
  filter: 5,
};
const RESNET: ConvShape = {
  label: 'ResNet-like',
  batch: 32,
  size: 56,
  inChannels: 64,
  outChannels: 64,
  filter: 3,
};

/**
 * Not `demo` (calibration times only the MLP): a conv shader compile takes seconds on a CPU
 * adapter, which calibration's per-device budget cannot afford.
 */
export function convBenchCases(big: boolean): BenchCase[] {
  const shapes = big ? [LAYER1, LAYER2, RESNET] : [LAYER1, LAYER2];
  return [
    ...shapes.map((s) => convForward(s, false)),
    // conv1's dX is never needed in training (its input is the data): only conv2's and larger.
    ...shapes.slice(1).map((s) => convGrad('input', s, false)),
    ...shapes.map((s) => convGrad('filter', s, false)),
    poolGrad('max', 64, 28, 8, false),
    poolGrad('max', 64, 14, 16, false),
    poolGrad('avg', 64, 28, 8, false),
  ];
}
