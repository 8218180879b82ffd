/**
 * The registration list stays honest: every registered kernel states its device needs and is
 * vouched for by some op's correctness suite (so `verifyKernels` checks it before use).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { KERNEL_NEEDS } from './gpu/features.ts';
import {
  AVG_POOL_GRAD,
  CONV2D,
  CONV2D_BACKPROP_FILTER,
  CONV2D_BACKPROP_INPUT,
  KERNEL_CONFIGS,
  MAX_POOL_GRAD,
} from './index.ts';
import { SUITES } from './suite/suites.ts';

describe('kernel registration', () => {
  const names = KERNEL_CONFIGS.map((k) => k.kernelName);

  it('registers every kernel on webgpu under a unique name', () => {
    expect(new Set(names).size).toBe(names.length);
    for (const k of KERNEL_CONFIGS) {
      expect(k.backendName).toBe('webgpu');
      expect(tf.getKernel(k.kernelName, 'webgpu')).toBeDefined();
    }
  });

  // Ours that stand in for TF.js's kernels go by the status names the override consults.
  const ours = [CONV2D, CONV2D_BACKPROP_INPUT, CONV2D_BACKPROP_FILTER, MAX_POOL_GRAD, AVG_POOL_GRAD];

  it('states the device needs of exactly the registered kernels', () => {
    expect(Object.keys(KERNEL_NEEDS).sort()).toEqual([...names, ...ours].sort());
  });

  it('covers every registered kernel by a suite', () => {
    const checked = new Set(SUITES.flatMap((s) => s.kernels));
    expect([...names, ...ours].filter((n) => !checked.has(n))).toEqual([]);
    for (const s of SUITES) expect(s.cases.length).toBeGreaterThan(0);
  });
});
