/**
 * Timing for kernel benchmarks, browser-safe. Each sample is one call plus a wait for the GPU:
 * reading back one element of the output (a 4-byte copy through a tiny slice kernel, the same
 * constant on both sides of a comparison) rather than the whole output, whose readback would
 * dominate memory-bound kernels. The first call is a warm-up that compiles the pipelines.
 */

import type { Tensor } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

export interface Timing {
  /** Median of the samples, ms. */
  ms: number;
  samples: number;
}

async function settle(out: Tensor | Tensor[]): Promise<void> {
  const last = Array.isArray(out) ? out[out.length - 1] : out;
  const probe = tf.tidy(() => tf.slice(tf.reshape(last, [-1]), 0, 1));
  await probe.data();
  probe.dispose();
}

/**
 * Times `fn` (which returns fresh tensors; they are disposed) until `budgetMs` is spent or
 * `maxSamples` are taken, at least `minSamples`.
 */
export async function time(
  fn: () => Tensor | Tensor[] | Promise<Tensor | Tensor[]>,
  opts: { budgetMs: number; minSamples?: number; maxSamples?: number },
): Promise<Timing> {
  const warm = await fn();
  await settle(warm);
  tf.dispose(warm);
  const samples: number[] = [];
  const start = performance.now();
  const min = opts.minSamples ?? 3;
  const max = opts.maxSamples ?? 50;
  while (samples.length < min || (samples.length < max && performance.now() - start < opts.budgetMs)) {
    const t0 = performance.now();
    const out = await fn();
    await settle(out);
    samples.push(performance.now() - t0);
    tf.dispose(out);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)], samples: samples.length };
}
