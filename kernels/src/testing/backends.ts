/**
 * Test helper (Node only): brings up the webgpu backend on Dawn once per test file and tears it
 * down, so each `*.test.ts` can run the same suite on webgpu and on TF.js's cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import '../index.ts';
import { registerWebGPU } from '../gpu/setup.ts';
import { createNodeGpu, type NodeGpu } from './node-gpu.ts';

let nodeGpu: NodeGpu | undefined;

export async function setUpWebGPU(): Promise<void> {
  nodeGpu = await createNodeGpu();
  if (!(await registerWebGPU(nodeGpu.gpu))) throw new Error('no WebGPU adapter (is SwiftShader installed?)');
  await tf.setBackend('webgpu');
}

export function tearDownWebGPU(): void {
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  nodeGpu?.release();
  nodeGpu = undefined;
}

/** Runs `fn` with `name` as the active backend, then restores the previous one. */
export async function onBackend<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend(name);
  try {
    return await fn();
  } finally {
    await tf.setBackend(previous);
  }
}
