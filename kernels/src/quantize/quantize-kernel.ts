/**
 * Kernel configs of the int8 block codec on webgpu: quantize (float32 [n] -> int32 wire buffer)
 * and dequantize (wire buffer -> float32 [n]). Sizes go in attrs and uniforms, never the shader key.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { flatDispatch, ints, runProgram } from '../gpu/program.ts';
import { BLOCK_THREADS, dequantizeSource, quantizeSource } from './quantize.wgsl.ts';

export const QUANTIZE_INT8 = 'GridTabQuantizeInt8';
export const DEQUANTIZE_INT8 = 'GridTabDequantizeInt8';

export interface Int8Layout {
  length: number;
  blockSize: number;
  blocks: number;
  /** Total int32 words: one scale per block, then ceil(length / 4) code words. */
  words: number;
}

export function int8Layout(length: number, blockSize: number): Int8Layout {
  if (!Number.isInteger(blockSize) || blockSize < 4 || blockSize % 4 !== 0) {
    throw new Error(`int8 codec: blockSize ${blockSize} must be a positive multiple of 4`);
  }
  const blocks = Math.ceil(length / blockSize);
  return { length, blockSize, blocks, words: blocks + Math.ceil(length / 4) };
}

const UNIFORMS = 'n : i32, blockSize : i32, nBlocks : i32,';

export const quantizeInt8Config: KernelConfig = {
  kernelName: QUANTIZE_INT8,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    const layout = int8Layout(x.shape[0], attrs?.blockSize as number);
    return runProgram(
      backend as WebGPUBackend,
      {
        shaderKey: 'gridtab_quantize_int8',
        variableNames: ['X'],
        outputShape: [layout.words],
        dispatch: flatDispatch(layout.blocks),
        workgroupSize: [BLOCK_THREADS, 1, 1],
        uniforms: UNIFORMS,
        userCode: quantizeSource(),
      },
      [x],
      'int32',
      ints(layout.length, layout.blockSize, layout.blocks),
    );
  },
};

export const dequantizeInt8Config: KernelConfig = {
  kernelName: DEQUANTIZE_INT8,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { packed } = inputs as { packed: TensorInfo };
    const layout = int8Layout(attrs?.length as number, attrs?.blockSize as number);
    return runProgram(
      backend as WebGPUBackend,
      {
        shaderKey: 'gridtab_dequantize_int8',
        variableNames: ['Packed'],
        outputShape: [layout.length],
        dispatch: flatDispatch(Math.ceil(layout.length / 4 / BLOCK_THREADS)),
        workgroupSize: [BLOCK_THREADS, 1, 1],
        uniforms: UNIFORMS,
        userCode: dequantizeSource(),
      },
      [packed],
      'float32',
      ints(layout.length, layout.blockSize, layout.blocks),
    );
  },
};
