/**
 * Kernel configs for the fused dense layer on the webgpu backend: forward, and the three
 * gradients TF.js's autodiff asks for through the registered gradient. Each kernel only builds
 * the program (variant in the shader key, shapes in uniforms) and runs it; the gradient config
 * that wires them into autodiff lives with the op in dense.ts.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { isFallbackDevice } from '../gpu/features.ts';
import { ints, runProgram } from '../gpu/program.ts';
import { columnSumSource, type MatMulVariant, matMulSource, tileOf } from './dense.wgsl.ts';

export type Activation = 'linear' | 'relu';

export const FUSED_DENSE = 'GridTabFusedDense';
export const DENSE_BACKPROP_INPUT = 'GridTabDenseBackpropInput';
export const DENSE_BACKPROP_FILTER = 'GridTabDenseBackpropFilter';
export const DENSE_BACKPROP_BIAS = 'GridTabDenseBackpropBias';

const UNIFORMS = 'dimM : i32, dimN : i32, dimK : i32,';

function variantKey(v: MatMulVariant): string {
  return `gridtab_matmul_${v.threads}x${v.perThread}_${+v.transA}${+v.transB}_${v.mask}_${+v.bias}${+v.relu}`;
}

type Tiling = Pick<MatMulVariant, 'threads' | 'perThread'>;

/** Tilings from the best load reuse down; the first that still yields enough workgroups wins. */
export const TILINGS: Tiling[] = [
  { threads: 16, perThread: 4 },
  { threads: 8, perThread: 4 },
  { threads: 16, perThread: 1 },
];
const MIN_WORKGROUPS = 32;

/**
 * On a CPU adapter workgroup count hardly matters (2 cores), emulated barriers cost per thread,
 * so big tiles win unless the output is thinner than one: then 64 threads beat 256 mostly idle.
 * Measured on SwiftShader, forward 64x784x128: 16x16x4 98 ms, 8x8x4 107, 16x16x1 555 (TF.js
 * 167); 64x128x10: 16x16x4 17.2 ms, 8x8x4 8.8 (TF.js 8.5).
 */
export function chooseTiling(m: number, n: number, cpuAdapter: boolean): Tiling {
  if (cpuAdapter) return Math.min(m, n) >= tileOf(TILINGS[0]) ? TILINGS[0] : TILINGS[1];
  const enough = (t: Tiling) => Math.ceil(m / tileOf(t)) * Math.ceil(n / tileOf(t)) >= MIN_WORKGROUPS;
  return TILINGS.find(enough) ?? TILINGS[TILINGS.length - 1];
}

/** Runs out[M, N] = act(opA(a) opB(b) + bias) with the operands in `inputs` order A, B, [Mask], [Bias]. */
function matMul(
  backend: WebGPUBackend,
  shape: Omit<MatMulVariant, keyof Tiling>,
  inputs: TensorInfo[],
  m: number,
  n: number,
  k: number,
  attrs?: NamedAttrMap,
): TensorInfo {
  // attrs.threads/perThread force a tiling (tests and tuning); otherwise chosen by shape.
  const tiling: Tiling = attrs?.threads
    ? { threads: attrs.threads as Tiling['threads'], perThread: attrs.perThread as Tiling['perThread'] }
    : chooseTiling(m, n, isFallbackDevice(backend.device));
  const v: MatMulVariant = { ...shape, ...tiling };
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
      workgroupSize: [v.threads, v.threads, 1],
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
    const v: Omit<MatMulVariant, keyof Tiling> = {
      transA: false,
      transB: false,
      mask: 'none',
      bias: true,
      relu: isRelu(attrs),
    };
    return matMul(backend as WebGPUBackend, v, [x, w, bias], m, n, k, attrs);
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
    const v: Omit<MatMulVariant, keyof Tiling> = {
      transA: false,
      transB: true,
      mask: relu ? 'a' : 'none',
      bias: false,
      relu: false,
    };
    return matMul(backend as WebGPUBackend, v, relu ? [dy, w, y] : [dy, w], batch, k, n, attrs);
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
    const v: Omit<MatMulVariant, keyof Tiling> = {
      transA: true,
      transB: false,
      mask: relu ? 'b' : 'none',
      bias: false,
      relu: false,
    };
    return matMul(backend as WebGPUBackend, v, relu ? [x, dy, y] : [x, dy], k, n, batch, attrs);
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
