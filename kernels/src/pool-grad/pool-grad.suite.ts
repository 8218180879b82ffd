/**
 * Correctness suites of the webgpu pooling gradients, one per kernel: each case runs MaxPoolGrad
 * (given the pool's input and output) or AvgPoolGrad on the active backend (ours on webgpu) and
 * on TF.js's cpu backend (the reference). Cases: 2x2 stride 2 (the usual pool), 3x3 stride 2 and
 * stride 1 'same' (overlapping windows, padding), odd sizes, channels 1 to 64, batch 1 and more,
 * and ties (zeros, ramp), where max pooling's rule for which element gets the gradient shows.
 *
 * Tolerance: |err| <= 1e-6 + 1e-5 * sum|terms|, sum|terms| being the gradient of |dY| on cpu;
 * a gradient routed to the wrong element misses by a whole |dY|.
 */
import * as tf from '@tensorflow/tfjs';
import { type CheckResult, compare, fill, type SuiteCase } from '../suite/check.ts';
import type { OpSuite } from '../suite/run.ts';
import type { PoolKind } from './pool-grad.wgsl.ts';
import { AVG_POOL_GRAD, MAX_POOL_GRAD } from './pool-grad-kernel.ts';

export type PoolParams = {
  batch: number;
  height: number;
  width: number;
  channels: number;
  filter: number;
  stride: number;
  pad: 'same' | 'valid';
};

const pool = (
  name: string,
  batch: number,
  [height, width]: [number, number],
  channels: number,
  filter: number,
  stride: number,
  pad: PoolParams['pad'],
  fillKind: SuiteCase['fill'] = 'random',
): SuiteCase<PoolParams> => ({
  op: 'pool-grad',
  name,
  fill: fillKind,
  params: { batch, height, width, channels, filter, stride, pad },
});

/**
 * Left out of a quick (start-up) verification; the quick set keeps non-overlapping and
 * overlapping windows, odd sizes, 'same' padding and ties.
 */
const heavy = (c: SuiteCase<PoolParams>): SuiteCase<PoolParams> => ({ ...c, heavy: true });

export const POOL_CASES: SuiteCase<PoolParams>[] = [
  heavy(pool('2x2 stride 2 valid, fashion cnn', 4, [28, 28], 8, 2, 2, 'valid')),
  pool('2x2 stride 2 valid, odd size', 1, [7, 9], 3, 2, 2, 'valid'),
  pool('2x2 stride 2 same, odd size', 3, [7, 5], 1, 2, 2, 'same'),
  heavy(pool('3x3 stride 2 same, 64 channels', 2, [9, 8], 64, 3, 2, 'same')),
  // 8 channels: the vec4 kernel (four channels per thread) in the quick set.
  pool('3x3 stride 1 same, overlapping, 8 channels', 2, [6, 7], 8, 3, 1, 'same'),
  heavy(pool('3x3 stride 1 valid', 1, [5, 5], 2, 3, 1, 'valid')),
  heavy(pool('ties: zeros', 2, [6, 6], 3, 3, 2, 'same', 'zeros')),
  heavy(pool('ties: zeros, 4 channels (vec4)', 2, [6, 6], 4, 3, 2, 'same', 'zeros')),
  pool('ties: ramp', 1, [8, 7], 4, 2, 1, 'valid', 'ramp'),
  heavy(pool('large magnitudes', 2, [9, 9], 6, 3, 3, 'valid', 'large')),
];

async function poolGrad(kind: PoolKind, p: PoolParams, xs: Float32Array, dys: Float32Array) {
  const out = tf.tidy(() => {
    const x = tf.tensor4d(xs, [p.batch, p.height, p.width, p.channels]);
    const attrs = { filterSize: p.filter, strides: p.stride, pad: p.pad };
    const y =
      kind === 'max' ? tf.maxPool(x, p.filter, p.stride, p.pad) : tf.avgPool(x, p.filter, p.stride, p.pad);
    const dy = tf.tensor4d(dys, y.shape);
    return kind === 'max'
      ? (tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) as tf.Tensor)
      : (tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, attrs) as tf.Tensor);
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

export async function checkPoolGrad(kind: PoolKind, c: SuiteCase<PoolParams>): Promise<CheckResult[]> {
  const p = c.params;
  const out = (n: number) =>
    p.pad === 'same' ? Math.ceil(n / p.stride) : Math.ceil((n - p.filter + 1) / p.stride);
  const xs = fill(c.fill, p.batch * p.height * p.width * p.channels, 1);
  const dys = fill(
    c.fill === 'zeros' ? 'random' : c.fill,
    p.batch * out(p.height) * out(p.width) * p.channels,
    2,
  );
  const got = await poolGrad(kind, p, xs, dys);
  const want = await onCpu(() => poolGrad(kind, p, xs, dys));
  const magnitude = await onCpu(() => poolGrad(kind, p, xs, dys.map(Math.abs)));
  return [compare(c.op, c.name, 'dx', got, want, { atol: 1e-6, rtol: 1e-5, magnitude })];
}

const suite = (op: string, kernel: string, kind: PoolKind): OpSuite => ({
  op,
  kernels: [kernel],
  cases: POOL_CASES.map((c) => ({ ...c, op })) as SuiteCase[],
  check: (c) => checkPoolGrad(kind, c as SuiteCase<unknown> as SuiteCase<PoolParams>),
});

export const POOL_GRAD_SUITES: OpSuite[] = [
  suite('max-pool-grad', MAX_POOL_GRAD, 'max'),
  suite('avg-pool-grad', AVG_POOL_GRAD, 'avg'),
];
