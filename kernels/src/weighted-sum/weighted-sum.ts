/**
 * `weightedSum(updates, weights)` = sum_i weights[i] * updates[i]: the core of FedAvg-style
 * aggregation and of merging local steps. One kernel per `maxInputs` buffers on webgpu; TF.js's
 * mul + addN elsewhere.
 */

import type { Tensor } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { webgpuFor } from '../registry.ts';
import { maxInputs, WEIGHTED_SUM } from './weighted-sum-kernel.ts';

function check(updates: Tensor[], weights: number[]): void {
  if (updates.length === 0 || updates.length !== weights.length) {
    throw new Error(`weightedSum: ${updates.length} buffers and ${weights.length} weights`);
  }
  for (const u of updates) {
    if (!tf.util.arraysEqual(u.shape, updates[0].shape))
      throw new Error('weightedSum: buffers differ in shape');
  }
}

export function weightedSum<T extends Tensor>(updates: T[], weights: number[]): T {
  check(updates, weights);
  const backend = webgpuFor(WEIGHTED_SUM, 4 * updates[0].size);
  if (!backend) return weightedSumTfjs(updates, weights);
  const flat = updates[0].rank > 2;
  const run = (us: Tensor[], ws: number[]) =>
    tf
      .engine()
      .runKernel(
        WEIGHTED_SUM,
        Object.fromEntries(us.map((u, i) => [`u${i}`, flat ? tf.reshape(u, [u.size]) : u])),
        { weights: ws },
      ) as Tensor;
  return tf.tidy(() => {
    const limit = maxInputs((backend as WebGPUBackend).device);
    // Chain: the running sum takes one binding (weight 1) in every dispatch after the first.
    let acc = run(updates.slice(0, limit), weights.slice(0, limit));
    for (let i = limit; i < updates.length; i += limit - 1) {
      const us = updates.slice(i, i + limit - 1);
      acc = run([acc, ...us], [1, ...weights.slice(i, i + us.length)]);
    }
    return tf.reshape(acc, updates[0].shape) as T;
  });
}

export function weightedSumTfjs<T extends Tensor>(updates: T[], weights: number[]): T {
  check(updates, weights);
  return tf.tidy(() => tf.addN(updates.map((u, i) => tf.mul(u, weights[i]))) as T);
}
