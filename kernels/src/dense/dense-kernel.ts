/**
 * Kernel configs for the fused dense layer on the webgpu backend: forward, and the three
 * gradients TF.js's autodiff asks for through the registered gradient. Each kernel only builds
 * the program (variant in the shader key, shapes in uniforms) and runs it; the gradient config
 * that wires them into autodiff lives with the op in dense.ts.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { ints, runProgram } from '../gpu/program.ts';
import { columnSumSource, type MatMulVariant, matMulSource, tileOf } from './dense.wgsl.ts';

export type Activation = 'linear' | 'relu';

export const FUSED_DENSE = 'GridTabFusedDense';
export const DENSE_BACKPROP_INPUT = 'GridTabDenseBackpropInput';
export const DENSE_BACKPROP_FILTER = 'GridTabDenseBackpropFilter';
export const DENSE_BACKPROP_BIAS = 'GridTabDenseBackpropBias';

const UNIFORMS = 'dimM : i32, dimN : i32, dimK : i32,';

function variantKey(v: MatMulVariant): string {
  return `gridtab_matmul_${v.perThread}_${+v.transA}${+v.transB}_${v.mask}_${+v.bias}${+v.relu}`;
}

/** Big tiles once they still give at least this many workgroups; small tiles below. */
const MIN_BIG_TILE_WORKGROUPS = 64;

/** Runs out[M, N] = act(opA(a) opB(b) + bias) with the operands in `inputs` order A, B, [Mask], [Bias]. */
function matMul(
  backend: WebGPUBackend,
  shape: Omit<MatMulVariant, 'perThread'>,
  inputs: TensorInfo[],
  m: number,
  n: number,
  k: number,
): TensorInfo {
  const bigTiles = Math.ceil(m / 64) * Math.ceil(n / 64) >= MIN_BIG_TILE_WORKGROUPS;
  const v: MatMulVariant = { ...shape, perThread: bigTiles ? 4 : 1 };
  const tile = tileOf(v);
  const names = ['A', 'B'];
  if (v.mask !== 'none') names.push('Mask');
  if (v.bias) names.push('Bias');
  return runProgram(
    backend,
    {
      shaderKey: variantKey(v),
      variableNames: names,
      outputShape: [m, n],
      dispatch: [Math.ceil(n / tile), Math.ceil(m / tile), 1],
      workgroupSize: [16, 16, 1],
      uniforms: UNIFORMS,
      userCode: matMulSource(v),
    },
    inputs,
    'float32',
    ints(m, n, k),
  );
}

const isRelu = (attrs?: NamedAttrMap) => attrs?.activation === 'relu';

export const fusedDenseConfig: KernelConfig = {
  kernelName: FUSED_DENSE,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, w, bias } = inputs as { x: TensorInfo; w: TensorInfo; bias: TensorInfo };
    const [m, k] = x.shape;
    const n = w.shape[1];
    const v: Omit<MatMulVariant, 'perThread'> = {
      transA: false,
      transB: false,
      mask: 'none',
      bias: true,
      relu: isRelu(attrs),
    };
    return matMul(backend as WebGPUBackend, v, [x, w, bias], m, n, k);
  },
};

/** dX[B, K] = (dY * relu'(Y)) W^T. */
export const denseBackpropInputConfig: KernelConfig = {
  kernelName: DENSE_BACKPROP_INPUT,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, w, y } = inputs as { dy: TensorInfo; w: TensorInfo; y: TensorInfo };
    const relu = isRelu(attrs);
    const [batch, n] = dy.shape;
    const k = w.shape[0];
    const v: Omit<MatMulVariant, 'perThread'> = {
      transA: false,
      transB: true,
      mask: relu ? 'a' : 'none',
      bias: false,
      relu: false,
    };
    return matMul(backend as WebGPUBackend, v, relu ? [dy, w, y] : [dy, w], batch, k, n);
  },
};

/** dW[K, N] = X^T (dY * relu'(Y)). */
export const denseBackpropFilterConfig: KernelConfig = {
  kernelName: DENSE_BACKPROP_FILTER,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy, y } = inputs as { x: TensorInfo; dy: TensorInfo; y: TensorInfo };
    const relu = isRelu(attrs);
    const [batch, k] = x.shape;
    const n = dy.shape[1];
    const v: Omit<MatMulVariant, 'perThread'> = {
      transA: true,
      transB: false,
      mask: relu ? 'b' : 'none',
      bias: false,
      relu: false,
    };
    return matMul(backend as WebGPUBackend, v, relu ? [x, dy, y] : [x, dy], k, n, batch);
  },
};

/** db[N] = column sums of dY * relu'(Y). */
export const denseBackpropBiasConfig: KernelConfig = {
  kernelName: DENSE_BACKPROP_BIAS,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, y } = inputs as { dy: TensorInfo; y: TensorInfo };
    const relu = isRelu(attrs);
    const [rows, cols] = dy.shape;
    return runProgram(
      backend as WebGPUBackend,
      {
        shaderKey: `gridtab_colsum_${+relu}`,
        variableNames: relu ? ['G', 'Mask'] : ['G'],
        outputShape: [cols],
        dispatch: [Math.ceil(cols / 16), 1, 1],
        workgroupSize: [16, 16, 1],
        uniforms: 'rows : i32, cols : i32,',
        userCode: columnSumSource(relu),
      },
      relu ? [dy, y] : [dy],
      'float32',
      ints(rows, cols),
    );
  },
};

export const denseKernelConfigs = [
  fusedDenseConfig,
  denseBackpropInputConfig,
  denseBackpropFilterConfig,
  denseBackpropBiasConfig,
];
