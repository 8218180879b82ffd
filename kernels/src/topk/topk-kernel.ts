/**
 * Kernel configs of top-k selection on webgpu: the two radix histograms and the compaction (see
 * topk.wgsl.ts). The op reads the histograms back (2 x 256 KiB) to pick the threshold on the CPU:
 * two short round trips per call, acceptable for a codec that runs once per work unit.
 */

import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { flatDispatch, ints, runProgram } from '../gpu/program.ts';
import { BINS, histogramSource, selectSource, TOPK_THREADS } from './topk.wgsl.ts';

export const TOPK_HISTOGRAM = 'GridTabTopKHistogram';
export const TOPK_SELECT = 'GridTabTopKSelect';

/**
 * A zeroed int32 output for an atomic program (pooled buffers are not cleared), made by the
 * backend's own Fill kernel, as TF.js's atomic kernels (Bincount, scatter) do.
 */
function zeros(backend: WebGPUBackend, size: number): TensorInfo {
  const fill = tf.getKernel('Fill', 'webgpu');
  if (!fill) throw new Error('webgpu backend has no Fill kernel');
  return fill.kernelFunc({
    backend,
    inputs: {},
    attrs: { shape: [size], value: 0, dtype: 'int32' },
  }) as TensorInfo;
}

function dispatchOver(n: number) {
  return flatDispatch(Math.ceil(n / TOPK_THREADS));
}

export const topKHistogramConfig: KernelConfig = {
  kernelName: TOPK_HISTOGRAM,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    const b = backend as WebGPUBackend;
    const low = attrs?.prefix !== undefined && (attrs.prefix as number) >= 0;
    const n = x.shape[0];
    return runProgram(
      b,
      {
        shaderKey: `gridtab_topk_histogram_${+low}`,
        variableNames: ['X'],
        outputShape: [BINS],
        dispatch: dispatchOver(n),
        workgroupSize: [TOPK_THREADS, 1, 1],
        uniforms: 'n : i32, prefix : i32,',
        userCode: histogramSource(low),
        atomic: true,
      },
      [x],
      'int32',
      ints(n, low ? (attrs?.prefix as number) : 0),
      zeros(b, BINS),
    );
  },
};

export const topKSelectConfig: KernelConfig = {
  kernelName: TOPK_SELECT,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    const b = backend as WebGPUBackend;
    const a = attrs as { k: number; threshold: number; above: number; ties: number };
    const n = x.shape[0];
    return runProgram(
      b,
      {
        shaderKey: 'gridtab_topk_select',
        variableNames: ['X'],
        outputShape: [2 + a.k],
        dispatch: dispatchOver(n),
        workgroupSize: [TOPK_THREADS, 1, 1],
        uniforms: 'n : i32, threshold : i32, above : i32, ties : i32,',
        userCode: selectSource(),
        atomic: true,
      },
      [x],
      'int32',
      ints(n, a.threshold | 0, a.above, a.ties),
      zeros(b, 2 + a.k),
    );
  },
};
