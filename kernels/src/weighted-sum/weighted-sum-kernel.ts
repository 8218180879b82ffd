/**
 * Kernel config of the weighted sum on webgpu. One dispatch handles up to `maxInputs` buffers
 * (one storage binding each, plus the output, within maxStorageBuffersPerShaderStage); the op
 * chains dispatches beyond that.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { flatDispatch, floats, ints, runProgram } from '../gpu/program.ts';
import { SUM_THREADS, weightedSumSource } from './weighted-sum.wgsl.ts';

export const WEIGHTED_SUM = 'GridTabWeightedSum';

/** Inputs one dispatch may bind on `device`: its storage-buffer limit minus the output. */
export function maxInputs(device: GPUDevice): number {
  return Math.min(16, device.limits.maxStorageBuffersPerShaderStage - 1);
}

export const weightedSumConfig: KernelConfig = {
  kernelName: WEIGHTED_SUM,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const buffers = Object.keys(inputs)
      .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
      .map((k) => inputs[k] as TensorInfo);
    const weights = attrs?.weights as number[];
    const n = buffers[0].shape.reduce((a, b) => a * b, 1);
    // vec4 loads and stores when the length allows: a quarter of the invocations and wider
    // memory transactions for the same bytes.
    const components = n % 4 === 0 ? 4 : 1;
    const count = n / components;
    return runProgram(
      backend as WebGPUBackend,
      {
        shaderKey: `gridtab_weighted_sum_${buffers.length}_${components}`,
        variableNames: buffers.map((_, i) => `U${i}`),
        outputShape: buffers[0].shape.length <= 2 ? buffers[0].shape : [n],
        dispatch: flatDispatch(Math.ceil(count / SUM_THREADS)),
        workgroupSize: [SUM_THREADS, 1, 1],
        uniforms: `count : i32, ${buffers.map((_, i) => `w${i} : f32,`).join(' ')}`,
        components,
        userCode: weightedSumSource(buffers.length),
      },
      buffers,
      'float32',
      [...ints(count), ...floats(...weights)],
    );
  },
};
