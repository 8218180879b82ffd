/**
 * What the kernel benchmark measures: each case builds its inputs once and offers our op and the
 * equivalent TF.js sequence (and, for codecs, a plain elementwise copy of the same input, the
 * issue's yardstick). Shapes: the demo MLP (784-128-10, batch 64; 101,770 parameters) and larger
 * ones, then the convolution and pooling-gradient cases of conv-cases.ts; `full` adds sizes only a
 * real GPU gets through in reasonable time (matmul up to 4096).
 */

import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { denseBackward, fusedDense, fusedDenseTfjs } from '../dense/dense.ts';
import {
  DENSE_BACKPROP_BIAS,
  DENSE_BACKPROP_FILTER,
  DENSE_BACKPROP_INPUT,
  FUSED_DENSE,
} from '../dense/dense-kernel.ts';
import { adamStep, momentumStep } from '../optimizer/optimizer.ts';
import { ADAM_STEP, MOMENTUM_STEP } from '../optimizer/optimizer-kernel.ts';
import { dequantizeInt8, quantizeInt8 } from '../quantize/quantize.ts';
import { DEQUANTIZE_INT8, QUANTIZE_INT8 } from '../quantize/quantize-kernel.ts';
import { softmaxCrossEntropy, softmaxCrossEntropyTfjs } from '../softmax-xent/softmax-xent.ts';
import { SOFTMAX_XENT } from '../softmax-xent/softmax-xent-kernel.ts';
import { topKWithFeedback } from '../topk/topk.ts';
import { TOPK_HISTOGRAM, TOPK_SELECT } from '../topk/topk-kernel.ts';
import { weightedSum, weightedSumTfjs } from '../weighted-sum/weighted-sum.ts';
import { WEIGHTED_SUM } from '../weighted-sum/weighted-sum-kernel.ts';
import { convBenchCases } from './conv-cases.ts';

export type Profile = 'fallback' | 'full';

type Run = () => Tensor | Tensor[] | Promise<Tensor | Tensor[]>;

export interface BenchCase {
  kernel: string;
  /** Kernel names whose speed the case measures (calibration marks them). */
  kernels: string[];
  /** At the demo model's shapes: what calibration times. */
  demo: boolean;
  shape: string;
  /** Floating-point operations (GFLOPS) or bytes moved (GB/s) per call; one of the two. */
  flops?: number;
  bytes?: number;
  /** Builds inputs; returns the runs and a disposer. `tfjsLabel` says what the baseline is. */
  setup(): { ours: Run; tfjs: Run; tfjsLabel: string; copy?: Run; dispose(): void };
}

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);
const MLP_PARAMS = 784 * 128 + 128 + 128 * 10 + 10;

function dense(b: number, k: number, n: number): BenchCase {
  return {
    kernel: 'dense forward (matmul+bias+relu)',
    kernels: [FUSED_DENSE],
    demo: b === 64,
    shape: `${b}x${k} . ${k}x${n}`,
    flops: 2 * b * k * n,
    setup() {
      const x = rand([b, k], 1) as Tensor2D;
      const w = rand([k, n], 2) as Tensor2D;
      const bias = rand([n], 3) as Tensor1D;
      return {
        ours: () => fusedDense(x, w, bias, 'relu'),
        tfjs: () => fusedDenseTfjs(x, w, bias, 'relu'),
        tfjsLabel: 'tf.fused.matMul (TF.js fused kernel)',
        dispose: () => tf.dispose([x, w, bias]),
      };
    },
  };
}

function denseGrad(b: number, k: number, n: number): BenchCase {
  return {
    kernel: 'dense backward (dX, dW, db; relu)',
    kernels: [DENSE_BACKPROP_INPUT, DENSE_BACKPROP_FILTER, DENSE_BACKPROP_BIAS],
    demo: b === 64,
    shape: `${b}x${k} . ${k}x${n}`,
    flops: 4 * b * k * n + 2 * b * n,
    setup() {
      const x = rand([b, k], 1) as Tensor2D;
      const w = rand([k, n], 2) as Tensor2D;
      const y = tf.relu(rand([b, n], 3)) as Tensor2D;
      const dy = rand([b, n], 4) as Tensor2D;
      return {
        ours: () => Object.values(denseBackward(dy, x, w, y, 'relu')),
        tfjs: () =>
          tf.tidy(() => {
            const g = tf.mul(dy, tf.step(y));
            return [tf.matMul(g, w, false, true), tf.matMul(x, g, true, false), tf.sum(g, 0)];
          }),
        tfjsLabel: 'step, mul, 2x matMul, sum',
        dispose: () => tf.dispose([x, w, y, dy]),
      };
    },
  };
}

function softmaxXent(rows: number, cols: number): BenchCase {
  return {
    kernel: 'softmax cross-entropy (loss+grad)',
    kernels: [SOFTMAX_XENT],
    demo: rows === 64,
    shape: `${rows}x${cols}`,
    bytes: 4 * (3 * rows * cols + rows),
    setup() {
      const z = rand([rows, cols], 5) as Tensor2D;
      const labels = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) labels[r * cols + (r % cols)] = 1;
      const y = tf.tensor2d(labels, [rows, cols]);
      return {
        ours: () => Object.values(softmaxCrossEntropy(z, y)),
        tfjs: () => Object.values(softmaxCrossEntropyTfjs(z, y)),
        tfjsLabel: 'softmax, logSoftmax, clip and elementwise ops',
        dispose: () => tf.dispose([z, y]),
      };
    },
  };
}

/** TF.js has no bitwise ops: its sequence stops at unpacked int32 codes and the scales. */
function quantizeTfjsCodes(x: Tensor1D, blockSize: number): Tensor[] {
  return tf.tidy(() => {
    const blocks = tf.reshape(x, [-1, blockSize]);
    const scale = tf.div(tf.max(tf.abs(blocks), 1, true), 127);
    const safe = tf.where(tf.greater(scale, 0), scale, tf.onesLike(scale));
    return [scale, tf.cast(tf.clipByValue(tf.round(tf.div(blocks, safe)), -127, 127), 'int32')];
  });
}

function quantize(n: number): BenchCase {
  const blockSize = 256;
  return {
    kernel: 'int8 block quantize',
    kernels: [QUANTIZE_INT8],
    demo: n === MLP_PARAMS,
    shape: `${n} floats, block ${blockSize}`,
    bytes: 4 * n + n + 4 * Math.ceil(n / blockSize),
    setup() {
      const x = rand([n], 6) as Tensor1D;
      const padded = tf.pad(x, [[0, Math.ceil(n / blockSize) * blockSize - n]]) as Tensor1D;
      return {
        ours: () => quantizeInt8(x, blockSize).packed,
        tfjs: () => quantizeTfjsCodes(padded, blockSize),
        tfjsLabel: 'abs, max, div, round, clip, cast (no byte packing)',
        copy: () => tf.mul(x, 1),
        dispose: () => tf.dispose([x, padded]),
      };
    },
  };
}

function dequantize(n: number): BenchCase {
  const blockSize = 256;
  return {
    kernel: 'int8 block dequantize',
    kernels: [DEQUANTIZE_INT8],
    demo: n === MLP_PARAMS,
    shape: `${n} floats, block ${blockSize}`,
    bytes: 4 * n + n + 4 * Math.ceil(n / blockSize),
    setup() {
      const x = rand([n], 7) as Tensor1D;
      const q = quantizeInt8(x, blockSize);
      const padded = tf.pad(x, [[0, Math.ceil(n / blockSize) * blockSize - n]]) as Tensor1D;
      const [scale, codes] = quantizeTfjsCodes(padded, blockSize);
      return {
        ours: () => dequantizeInt8(q),
        tfjs: () => tf.tidy(() => tf.mul(tf.cast(codes, 'float32'), scale)),
        tfjsLabel: 'cast, mul by block scale (codes unpacked)',
        copy: () => tf.mul(x, 1),
        dispose: () => tf.dispose([x, q.packed, padded, scale, codes]),
      };
    },
  };
}

function wsum(count: number, n: number): BenchCase {
  return {
    kernel: 'weighted sum of N buffers',
    kernels: [WEIGHTED_SUM],
    demo: n === MLP_PARAMS,
    shape: `${count} x ${n}`,
    bytes: 4 * n * (count + 1),
    setup() {
      const us = Array.from({ length: count }, (_, i) => rand([n], 10 + i));
      const ws = us.map((_, i) => 1 / (i + 1));
      return {
        ours: () => weightedSum(us, ws),
        tfjs: () => weightedSumTfjs(us, ws),
        tfjsLabel: 'mul per buffer, addN',
        dispose: () => tf.dispose(us),
      };
    },
  };
}

function adam(n: number): BenchCase {
  return {
    kernel: 'Adam step (flat state)',
    kernels: [ADAM_STEP],
    demo: n === MLP_PARAMS,
    shape: `${n} params`,
    bytes: 4 * n * 7,
    setup() {
      const state = tf.concat([rand([n], 20), tf.zeros([2 * n])]) as Tensor1D;
      const g = rand([n], 21) as Tensor1D;
      const variable = tf.variable(rand([n], 20));
      const optimizer = tf.train.adam(0.01);
      const cfg = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 1 };
      return {
        ours: () => adamStep(state, g, cfg),
        tfjs: () => {
          optimizer.applyGradients([{ name: variable.name, tensor: g }]);
          return tf.reshape(variable, [-1]);
        },
        tfjsLabel: 'tf.train.adam applyGradients on one variable',
        dispose: () => {
          optimizer.dispose();
          tf.dispose([state, g, variable]);
        },
      };
    },
  };
}

function momentum(n: number): BenchCase {
  return {
    kernel: 'SGD momentum step (flat state)',
    kernels: [MOMENTUM_STEP],
    demo: n === MLP_PARAMS,
    shape: `${n} params`,
    bytes: 4 * n * 5,
    setup() {
      const state = tf.concat([rand([n], 22), tf.zeros([n])]) as Tensor1D;
      const g = rand([n], 23) as Tensor1D;
      const variable = tf.variable(rand([n], 22));
      const optimizer = tf.train.momentum(0.05, 0.9);
      const cfg = { lr: 0.05, momentum: 0.9 };
      return {
        ours: () => momentumStep(state, g, cfg),
        tfjs: () => {
          optimizer.applyGradients([{ name: variable.name, tensor: g }]);
          return tf.reshape(variable, [-1]);
        },
        tfjsLabel: 'tf.train.momentum applyGradients on one variable',
        dispose: () => {
          optimizer.dispose();
          tf.dispose([state, g, variable]);
        },
      };
    },
  };
}

function topk(n: number): BenchCase {
  const k = Math.max(1, Math.round(n / 100));
  return {
    kernel: 'top-k 1% with error feedback',
    kernels: [TOPK_HISTOGRAM, TOPK_SELECT],
    demo: n === MLP_PARAMS,
    shape: `${n} floats, k ${k}`,
    bytes: 4 * n * 3 + 8 * k,
    setup() {
      const u = rand([n], 30) as Tensor1D;
      const r = tf.mul(rand([n], 31), 0.1) as Tensor1D;
      return {
        ours: async () => Object.values(await topKWithFeedback(u, r, k)),
        tfjs: () =>
          tf.tidy(() => {
            const acc = tf.add(u, r);
            const { indices } = tf.topk(tf.abs(acc), k, false);
            const values = tf.gather(acc, indices);
            return [indices, values, tf.tensorScatterUpdate(acc, tf.reshape(indices, [k, 1]), tf.zeros([k]))];
          }),
        tfjsLabel: 'add, abs, tf.topk, gather, tensorScatterUpdate',
        dispose: () => tf.dispose([u, r]),
      };
    },
  };
}

export function benchCases(profile: Profile): BenchCase[] {
  const big = profile === 'full';
  const matmuls = big ? [1024, 2048, 4096] : [512];
  const buffers = big ? [MLP_PARAMS, 1 << 22, 1 << 24] : [MLP_PARAMS, 1 << 22];
  return [
    dense(64, 784, 128),
    dense(64, 128, 10),
    ...matmuls.map((s) => dense(s, s, s)),
    denseGrad(64, 784, 128),
    ...matmuls.slice(0, 2).map((s) => denseGrad(s, s, s)),
    softmaxXent(64, 10),
    softmaxXent(512, 1000),
    ...(big ? [softmaxXent(4096, 4096)] : []),
    ...buffers.map(quantize),
    ...buffers.map(dequantize),
    wsum(8, MLP_PARAMS),
    wsum(8, big ? 1 << 22 : 1 << 20),
    ...buffers.map(adam),
    ...buffers.map(momentum),
    // TF.js's sort-based top-k takes ~96 s at 4M on SwiftShader: smaller sizes off-GPU.
    ...(big ? buffers : [MLP_PARAMS, 1 << 18]).map(topk),
    ...convBenchCases(big),
  ];
}
