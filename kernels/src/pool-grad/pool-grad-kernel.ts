/**
 * Runs the pooling-gradient programs of pool-grad.wgsl.ts on TF.js's webgpu backend. Inputs go
 * in as flat views and dX comes back with the input's 4-D shape (see conv-kernel.ts for why).
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { flatDispatch, runProgram, type Uniform } from '../gpu/program.ts';
import { POOL_UNIFORMS, type PoolKind, poolGradSource } from './pool-grad.wgsl.ts';

/** Names our kernels go by in the registry's status map (and in kernelSupport). */
export const MAX_POOL_GRAD = 'GridTabMaxPoolGrad';
export const AVG_POOL_GRAD = 'GridTabAvgPoolGrad';

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const flat = (t: TensorInfo): TensorInfo => ({ dataId: t.dataId, shape: [sizeOf(t.shape)], dtype: t.dtype });

/** dX [batch, inH, inW, C] of a max (given the pool's input x) or average pool, given dY. */
export function poolGrad(
  backend: WebGPUBackend,
  kind: PoolKind,
  info: backend_util.Conv2DInfo,
  dy: TensorInfo,
  x?: TensorInfo,
): TensorInfo {
  // Four channels per thread when they come in fours (the fashion-cnn pools' 8 and 16).
  const vec4 = info.inChannels % 4 === 0;
  const lanes = vec4 ? 4 : 1;
  const size = sizeOf(info.inShape) / lanes;
  const int = (v: number): Uniform => ({ type: 'int32', data: [v] });
  const uniforms: Uniform[] = [
    size,
    info.inHeight,
    info.inWidth,
    info.inChannels / lanes,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ].map(int);
  uniforms.push({ type: 'float32', data: [1 / (info.filterHeight * info.filterWidth)] });
  if (kind === 'max' && !x) throw new Error('MaxPoolGrad needs the pool input');
  const out = runProgram(
    backend,
    {
      shaderKey: `gridtab_pool_grad_${kind}_${lanes}`,
      variableNames: kind === 'max' ? ['DY', 'X'] : ['DY'],
      outputShape: [size * lanes],
      dispatch: flatDispatch(Math.ceil(size / 64)),
      workgroupSize: [64, 1, 1],
      uniforms: POOL_UNIFORMS,
      components: lanes,
      userCode: poolGradSource(kind, vec4),
    },
    kind === 'max' && x ? [flat(dy), flat(x)] : [flat(dy)],
    'float32',
    uniforms,
  );
  return { dataId: out.dataId, shape: [...info.inShape], dtype: 'float32' };
}
