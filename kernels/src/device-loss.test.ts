/**
 * Device loss: the runtime is told, every kernel is marked failed on that device, and after
 * switching backend the same op calls keep working (on TF.js), so a unit can be redone.
 * Its own file: destroying the device ends webgpu for the rest of the process's backend.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fusedDense } from './dense/dense.ts';
import { FUSED_DENSE } from './dense/dense-kernel.ts';
import { kernelStatus } from './registry.ts';
import { setUpWebGPU, tearDownWebGPU } from './testing/backends.ts';
import { watchDeviceLoss } from './verify.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

describe('device loss', () => {
  it('is reported, marks kernels failed, and the ops run on the next backend', async () => {
    const backend = tf.backend() as WebGPUBackend;
    const lost = new Promise<string>((resolve) => watchDeviceLoss(resolve));
    backend.device.destroy();
    expect(await lost).toMatch(/device lost \(destroyed\)/);
    expect(kernelStatus(backend, FUSED_DENSE).state).toBe('failed');

    await tf.setBackend('cpu');
    const x = tf.ones([2, 3]) as tf.Tensor2D;
    const w = tf.ones([3, 4]) as tf.Tensor2D;
    const b = tf.fill([4], -1) as tf.Tensor1D;
    const y = fusedDense(x, w, b, 'relu');
    expect(Array.from(await y.data())).toEqual(new Array(8).fill(2));
    tf.dispose([x, w, b, y]);
  });
});
