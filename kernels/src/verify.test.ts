/**
 * Verification and fallback on one device: the suite marks kernels, a kernel that fails it is
 * bypassed (the op then runs TF.js and still gives the right answer), and kernelSupport reports it.
 */

import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrateKernels } from './bench/calibrate.ts';
import { CONV2D } from './conv/conv-kernel.ts';
import { fusedDense } from './dense/dense.ts';
import { FUSED_DENSE } from './dense/dense-kernel.ts';
import { flatDispatch, ints, runProgram } from './gpu/program.ts';
import { MAX_POOL_GRAD } from './pool-grad/pool-grad-kernel.ts';
import { kernelStatus, markKernel } from './registry.ts';
import { SUITES } from './suite/suites.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from './testing/backends.ts';
import { CONV_OPS, kernelSupport, needsVerification, verifyKernels } from './verify.ts';
import { weightedSum } from './weighted-sum/weighted-sum.ts';
import { WEIGHTED_SUM, weightedSumConfig } from './weighted-sum/weighted-sum-kernel.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

/** A wrong weighted sum (ignores the weights) standing in for a driver that miscompiles ours. */
const brokenWeightedSum: KernelConfig = {
  kernelName: WEIGHTED_SUM,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend }) => {
    const u = inputs.u0 as TensorInfo;
    return runProgram(
      backend as WebGPUBackend,
      {
        shaderKey: 'gridtab_broken_sum',
        variableNames: ['U0'],
        outputShape: [u.shape.reduce((a, b) => a * b, 1)],
        dispatch: flatDispatch(Math.ceil(u.shape.reduce((a, b) => a * b, 1) / 64)),
        workgroupSize: [64, 1, 1],
        uniforms: 'count : i32,',
        userCode: `fn main() {
          let i = i32(workgroupId.y * numWorkgroups.x + workgroupId.x) * 64 + i32(localIndex);
          if (i < uniforms.count) { result[i] = U0[i]; }
        }`,
      },
      [u],
      'float32',
      ints(u.shape.reduce((a, b) => a * b, 1)),
    );
  },
};

describe('kernel verification', () => {
  it('marks every kernel but the conv ones passed at start-up, and reports it', async () => {
    await onBackend('webgpu', async () => {
      const results = await verifyKernels({ quick: true, except: CONV_OPS });
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect(new Set(results.map((r) => r.op))).toEqual(
        new Set(SUITES.map((s) => s.op).filter((op) => !CONV_OPS.includes(op))),
      );
      const report = kernelSupport();
      expect(report.backend).toBe('webgpu');
      expect(report.device?.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
      const conv = new Set(SUITES.filter((s) => CONV_OPS.includes(s.op)).flatMap((s) => s.kernels));
      expect(conv.size).toBe(5);
      for (const k of report.kernels) expect(k.state).toBe(conv.has(k.name) ? 'unverified' : 'passed');
      expect(needsVerification(CONV_OPS)).toBe(true);
      expect(needsVerification(['dense', 'softmax-xent'])).toBe(false);
    });
  });

  it('verifies only the ops asked for (a model with pooling layers)', async () => {
    await onBackend('webgpu', async () => {
      const backend = tf.backend();
      const pools = ['max-pool-grad', 'avg-pool-grad'];
      const results = await verifyKernels({ quick: true, ops: pools });
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect(new Set(results.map((r) => r.op))).toEqual(new Set(pools));
      expect(needsVerification(pools)).toBe(false);
      expect(kernelStatus(backend, MAX_POOL_GRAD).state).toBe('passed');
      expect(kernelStatus(backend, CONV2D).state).toBe('unverified');
      expect(needsVerification(CONV_OPS)).toBe(true);
    });
  });

  it('bypasses a kernel that fails the suite, and the op stays correct', async () => {
    await onBackend('webgpu', async () => {
      const backend = tf.backend();
      tf.unregisterKernel(WEIGHTED_SUM, 'webgpu');
      tf.registerKernel(brokenWeightedSum);
      try {
        await verifyKernels({ quick: true, except: CONV_OPS });
        expect(kernelStatus(backend, WEIGHTED_SUM).state).toBe('failed');
        expect(kernelStatus(backend, FUSED_DENSE).state).toBe('passed');
        const a = tf.tensor1d([1, 2, 3]);
        const b = tf.tensor1d([10, 20, 30]);
        const sum = weightedSum([a, b], [0.5, 2]);
        expect(Array.from(await sum.data())).toEqual([20.5, 41, 61.5]);
        tf.dispose([a, b, sum]);
        expect(kernelSupport().kernels.find((k) => k.name === WEIGHTED_SUM)?.reason).toMatch(/weighted-sum/);
      } finally {
        tf.unregisterKernel(WEIGHTED_SUM, 'webgpu');
        tf.registerKernel(weightedSumConfig);
        markKernel(backend, WEIGHTED_SUM, { state: 'unverified' });
      }
    });
  });

  it('routes a failed kernel to TF.js', async () => {
    await onBackend('webgpu', async () => {
      const backend = tf.backend();
      const x = tf.ones([2, 3]) as tf.Tensor2D;
      const w = tf.ones([3, 4]) as tf.Tensor2D;
      const b = tf.zeros([4]) as tf.Tensor1D;
      markKernel(backend, FUSED_DENSE, { state: 'failed', reason: 'test' });
      const profile = await tf.profile(() => fusedDense(x, w, b, 'relu'));
      expect(profile.kernelNames).not.toContain(FUSED_DENSE);
      markKernel(backend, FUSED_DENSE, { state: 'unverified' });
      tf.dispose([x, w, b]);
    });
  });

  it('reports every kernel unsupported off webgpu', async () => {
    await onBackend('cpu', async () => {
      const report = kernelSupport();
      expect(report.device).toBeNull();
      expect(new Set(report.kernels.map((k) => k.state))).toEqual(new Set(['unsupported']));
    });
  });

  it('calibration records a measured speedup per kernel and routes losers to TF.js', async () => {
    await onBackend('webgpu', async () => {
      const backend = tf.backend();
      const calibration = await calibrateKernels({ budgetMs: 20 });
      expect(calibration.length).toBeGreaterThanOrEqual(10);
      for (const c of calibration) {
        // Which side wins is the adapter's business; the decision must follow the measurement.
        expect(c.speedup).toBeGreaterThan(0);
        expect(c.prefer).toBe(c.speedup < 0.9 ? 'tfjs' : 'ours');
        expect(kernelStatus(backend, c.kernel)).toMatchObject({ speedup: c.speedup, prefer: c.prefer });
      }
      markKernel(backend, FUSED_DENSE, { state: 'passed', prefer: 'tfjs' });
      const x = tf.ones([2, 3]) as tf.Tensor2D;
      const w = tf.ones([3, 4]) as tf.Tensor2D;
      const b = tf.zeros([4]) as tf.Tensor1D;
      const profile = await tf.profile(() => fusedDense(x, w, b, 'relu'));
      expect(profile.kernelNames).not.toContain(FUSED_DENSE);
      tf.dispose([x, w, b]);
      for (const c of calibration) markKernel(backend, c.kernel, { state: 'unverified' });
    });
  });
});
