/**
 * Kernel config of fused softmax cross-entropy on webgpu. TF.js programs have one output, so the
 * kernel returns one flat buffer [rows*cols gradient | rows losses] that the op splits.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { flatDispatch, floats, ints, runProgram } from '../gpu/program.ts';
import { ROW_THREADS, softmaxXentSource } from './softmax-xent.wgsl.ts';

export const SOFTMAX_XENT = 'GridTabSoftmaxCrossEntropy';

export const softmaxXentConfig: KernelConfig = {
  kernelName: SOFTMAX_XENT,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { logits, labels } = inputs as { logits: TensorInfo; labels: TensorInfo };
    // The float32 clip bounds (clipBounds in softmax-xent.ts); uniforms, so one shader serves all.
    const { min, max } = attrs as unknown as { min: number; max: number };
    const [rows, cols] = logits.shape;
    return runProgram(
      backend as WebGPUBackend,
      {
        shaderKey: 'gridtab_softmax_xent',
        variableNames: ['Logits', 'Labels'],
        outputShape: [rows * cols + rows],
        dispatch: flatDispatch(rows),
        workgroupSize: [ROW_THREADS, 1, 1],
        uniforms: 'rows : i32, cols : i32, lo : f32, hi : f32, logLo : f32, logHi : f32,',
        userCode: softmaxXentSource(),
      },
      [logits, labels],
      'float32',
      [...ints(rows, cols), ...floats(min, max, Math.log(min), Math.log(max))],
    );
  },
};
