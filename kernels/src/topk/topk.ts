/**
 * Top-k sparsification with error feedback, for update compression: add the residual carried
 * from the previous round to the update, send the k entries of largest magnitude, and carry the
 * rest (the selected entries zeroed) as the next residual, so nothing is lost, only delayed.
 * On webgpu the selection is our radix-select kernels (exact, no sort); elsewhere tf.topk.
 * Indices come back in no particular order; ties at the threshold are broken arbitrarily.
 */

import type { Tensor1D } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { webgpuFor } from '../registry.ts';
import { BINS } from './topk.wgsl.ts';
import { TOPK_HISTOGRAM, TOPK_SELECT } from './topk-kernel.ts';

export interface TopK {
  /** int32 [k]. */
  indices: Tensor1D;
  /** float32 [k]: update + residual at `indices`. */
  values: Tensor1D;
  /** float32 [n]: update + residual with the selected entries zeroed. */
  residual: Tensor1D;
}

/**
 * From the top bin down, the bin where the running count reaches `k`, and the count strictly
 * above that bin.
 */
export function findBin(hist: Int32Array, k: number): { bin: number; above: number } {
  let above = 0;
  for (let bin = hist.length - 1; bin >= 0; bin--) {
    if (above + hist[bin] >= k) return { bin, above };
    above += hist[bin];
  }
  throw new Error(`findBin: fewer than ${k} elements`);
}

export async function topKWithFeedback(update: Tensor1D, residual: Tensor1D, k: number): Promise<TopK> {
  const n = update.size;
  if (residual.size !== n || update.rank !== 1)
    throw new Error('topKWithFeedback: update and residual must be equal 1-D');
  if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`topKWithFeedback: k ${k} outside [0, ${n}]`);
  const acc = tf.add(update, residual) as Tensor1D;
  let indices: Tensor1D;
  if (k > 0 && webgpuFor(TOPK_SELECT, 4 * n)) {
    indices = await selectWebGPU(acc, k);
  } else {
    indices = tf.tidy(() =>
      k === 0 ? tf.tensor1d([], 'int32') : tf.topk(tf.abs(acc), k, false).indices,
    ) as Tensor1D;
  }
  return tf.tidy(() => {
    const values = tf.gather(acc, indices) as Tensor1D;
    const next = (
      k === 0 ? tf.clone(acc) : tf.tensorScatterUpdate(acc, tf.reshape(indices, [k, 1]), tf.zeros([k]))
    ) as Tensor1D;
    acc.dispose();
    return { indices, values, residual: next };
  });
}

/** Radix select: threshold from two histograms read back, then one compaction pass. */
async function selectWebGPU(acc: Tensor1D, k: number): Promise<Tensor1D> {
  const run = (name: string, attrs: Record<string, number>) =>
    tf.engine().runKernel(name, { x: acc }, attrs) as Tensor1D;
  const readHist = async (t: Tensor1D) => {
    const data = (await t.data()) as Int32Array;
    t.dispose();
    return data;
  };
  const high = findBin(await readHist(run(TOPK_HISTOGRAM, { prefix: -1 })), k);
  const low = findBin(await readHist(run(TOPK_HISTOGRAM, { prefix: high.bin })), k - high.above);
  const threshold = high.bin * BINS + low.bin;
  const above = high.above + low.above;
  const packed = run(TOPK_SELECT, { k, threshold, above, ties: k - above });
  const indices = tf.slice(packed, 2, k);
  packed.dispose();
  return indices;
}
