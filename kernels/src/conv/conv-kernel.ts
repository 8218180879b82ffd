/**
 * Runs the implicit-GEMM convolution programs of conv.wgsl.ts on TF.js's webgpu backend: the
 * forward pass (bias and activation fused), dX and dW (split-K plus a sum). Inputs go in as flat
 * views (TF.js's generated header then has no rank-4 helpers we would not use), outputs come back
 * as [M, N] and are handed out as a view with the 4-D shape, as TF.js's own reshape does. Which
 * calls may take this path, and the fallback to TF.js's kernels, is conv.ts's business.
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { chooseTiling } from '../dense/dense-kernel.ts';
import { isFallbackDevice } from '../gpu/features.ts';
import { flatDispatch, ints, runProgram } from '../gpu/program.ts';
import {
  CONV_UNIFORMS,
  type ConvActivation,
  type ConvGemmVariant,
  type ConvPass,
  convGemmSource,
  convTileOf,
  SPLIT_SUM_SOURCE,
  TILE_K,
} from './conv.wgsl.ts';
import {
  DIRECT_FILTER_SOURCE,
  DIRECT_INPUT_SOURCE,
  DIRECT_THREADS,
  DIRECT_UNIFORMS,
  directForwardSource,
} from './conv-direct.wgsl.ts';

/** Names our kernels go by in the registry's status map (and in kernelSupport). */
export const CONV2D = 'GridTabConv2D';
export const CONV2D_BACKPROP_INPUT = 'GridTabConv2DBackpropInput';
export const CONV2D_BACKPROP_FILTER = 'GridTabConv2DBackpropFilter';

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const flat = (t: TensorInfo): TensorInfo => ({ dataId: t.dataId, shape: [sizeOf(t.shape)], dtype: t.dtype });
const view = (t: TensorInfo, shape: number[]): TensorInfo => ({ dataId: t.dataId, shape, dtype: t.dtype });

/**
 * How many K slices dW's GEMM takes: enough workgroups to fill the adapter (a few for a CPU
 * adapter's cores, ~128 for a GPU), but at least 256 of K per slice so the sum stays cheap.
 */
export function chooseSplits(m: number, n: number, k: number, tile: number, cpuAdapter: boolean): number {
  const tiles = Math.ceil(m / tile) * Math.ceil(n / tile);
  const target = cpuAdapter ? 8 : 128;
  return Math.max(1, Math.min(Math.ceil(target / tiles), Math.floor(k / 256)));
}

interface Gemm {
  pass: ConvPass;
  m: number;
  n: number;
  k: number;
  bias?: boolean;
  activation?: ConvActivation;
  /** Forces a tiling or a split (tests); otherwise chosen by shape and adapter. */
  tiling?: Pick<ConvGemmVariant, 'threads' | 'perThread'>;
  splits?: number;
}

function runGemm(
  backend: WebGPUBackend,
  info: backend_util.Conv2DInfo,
  g: Gemm,
  names: string[],
  inputs: TensorInfo[],
): TensorInfo {
  const cpu = isFallbackDevice(backend.device);
  const tiling = g.tiling ?? chooseTiling(g.m, g.n, cpu);
  const v: ConvGemmVariant = {
    pass: g.pass,
    ...tiling,
    bias: g.bias ?? false,
    activation: g.activation ?? 'linear',
  };
  const tile = convTileOf(v);
  const wanted = g.pass === 'filter' ? (g.splits ?? chooseSplits(g.m, g.n, g.k, tile, cpu)) : 1;
  const kChunk = Math.ceil(g.k / wanted / TILE_K) * TILE_K;
  const splits = Math.ceil(g.k / kChunk);
  const out = runProgram(
    backend,
    {
      shaderKey: `gridtab_conv_${v.pass}_${v.threads}x${v.perThread}_${+v.bias}_${v.activation}`,
      variableNames: names,
      outputShape: [splits * g.m, g.n],
      dispatch: [Math.ceil(g.n / tile), Math.ceil(g.m / tile), splits],
      workgroupSize: [v.threads, v.threads, 1],
      uniforms: CONV_UNIFORMS,
      userCode: convGemmSource(v),
    },
    inputs.map(flat),
    'float32',
    ints(
      info.batchSize,
      info.inHeight,
      info.inWidth,
      info.inChannels,
      info.outHeight,
      info.outWidth,
      info.outChannels,
      info.filterHeight,
      info.filterWidth,
      info.strideHeight,
      info.strideWidth,
      info.padInfo.top,
      info.padInfo.left,
      g.m,
      g.n,
      g.k,
      kChunk,
    ),
  );
  if (splits === 1) return out;
  const size = g.m * g.n;
  const sum = runProgram(
    backend,
    {
      shaderKey: 'gridtab_conv_split_sum',
      variableNames: ['P'],
      outputShape: [size],
      dispatch: flatDispatch(Math.ceil(size / 64)),
      workgroupSize: [64, 1, 1],
      uniforms: 'size : i32, splits : i32,',
      userCode: SPLIT_SUM_SOURCE,
    },
    [flat(out)],
    'float32',
    ints(size, splits),
  );
  backend.disposeData(out.dataId);
  return sum;
}

export interface ConvOptions {
  tiling?: Gemm['tiling'];
  splits?: number;
  /** Forces the tiled GEMM or the direct kernel (tests); otherwise `chooseDirect` decides. */
  path?: 'gemm' | 'direct';
}

/** Whether the direct kernel (conv-direct.wgsl.ts) can take the pass: its vec4 channels fit. */
export function directFits(pass: ConvPass, info: backend_util.Conv2DInfo): boolean {
  const outOk = info.outChannels % 4 === 0;
  return pass === 'input' ? outOk && info.inChannels % 4 === 0 : outOk;
}

/**
 * The direct kernel where it fits and either the adapter is a CPU (SwiftShader: barriers are
 * emulated per invocation, and the direct kernels have none) or the GEMM's N (the channels it
 * writes) is at most 16, a fraction of its 32- or 64-wide tile. Measured on SwiftShader only
 * (docs/BENCHMARKS.md, fashion-cnn layers); on a GPU only the thin case switches.
 */
export function chooseDirect(pass: ConvPass, info: backend_util.Conv2DInfo, cpuAdapter: boolean): boolean {
  if (!directFits(pass, info)) return false;
  const n = pass === 'input' ? info.inChannels : info.outChannels;
  return cpuAdapter || n <= 16;
}

/** Split count of the direct dW: enough threads to fill the adapter, at least one row per slice. */
export function chooseDirectSplits(outputs: number, rows: number, cpuAdapter: boolean): number {
  const target = cpuAdapter ? 4096 : 32768;
  return Math.max(1, Math.min(rows, Math.ceil(target / outputs)));
}

function geometryInts(info: backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

/** Runs one direct program over `total` vec4 outputs (outputShape [total * 4] floats). */
function runDirect(
  backend: WebGPUBackend,
  info: backend_util.Conv2DInfo,
  key: string,
  source: string,
  names: string[],
  inputs: TensorInfo[],
  components: (1 | 4)[],
  total: number,
  rowsPerSlice = 0,
): TensorInfo {
  return runProgram(
    backend,
    {
      shaderKey: `gridtab_conv_direct_${key}`,
      variableNames: names,
      outputShape: [total * 4],
      dispatch: flatDispatch(Math.ceil(total / DIRECT_THREADS)),
      workgroupSize: [DIRECT_THREADS, 1, 1],
      uniforms: DIRECT_UNIFORMS,
      components: 4,
      inputComponents: components,
      userCode: source,
    },
    inputs.map(flat),
    'float32',
    ints(...geometryInts(info), total, rowsPerSlice),
  );
}

function sumSlices(backend: WebGPUBackend, partials: TensorInfo, size: number, splits: number): TensorInfo {
  if (splits === 1) return partials;
  const sum = runProgram(
    backend,
    {
      shaderKey: 'gridtab_conv_split_sum',
      variableNames: ['P'],
      outputShape: [size],
      dispatch: flatDispatch(Math.ceil(size / 64)),
      workgroupSize: [64, 1, 1],
      uniforms: 'size : i32, splits : i32,',
      userCode: SPLIT_SUM_SOURCE,
    },
    [flat(partials)],
    'float32',
    ints(size, splits),
  );
  backend.disposeData(partials.dataId);
  return sum;
}

const useDirect = (backend: WebGPUBackend, pass: ConvPass, info: backend_util.Conv2DInfo, o: ConvOptions) =>
  o.path ? o.path === 'direct' : chooseDirect(pass, info, isFallbackDevice(backend.device));

/** y = act(conv2d(x, W) + bias), NHWC, dilation 1. */
export function conv2dForward(
  backend: WebGPUBackend,
  info: backend_util.Conv2DInfo,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  activation: ConvActivation,
  options: ConvOptions = {},
): TensorInfo {
  if (useDirect(backend, 'forward', info, options)) {
    const total = (info.batchSize * info.outHeight * info.outWidth * info.outChannels) / 4;
    const key = `forward_${+!!bias}_${activation}`;
    const source = directForwardSource(!!bias, activation);
    const out = bias
      ? runDirect(backend, info, key, source, ['X', 'W', 'Bias'], [x, filter, bias], [1, 4, 4], total)
      : runDirect(backend, info, key, source, ['X', 'W'], [x, filter], [1, 4], total);
    return view(out, [...info.outShape]);
  }
  const m = info.batchSize * info.outHeight * info.outWidth;
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const g: Gemm = { pass: 'forward', m, n: info.outChannels, k, bias: !!bias, activation, ...options };
  const out = bias
    ? runGemm(backend, info, g, ['X', 'W', 'Bias'], [x, filter, bias])
    : runGemm(backend, info, g, ['X', 'W'], [x, filter]);
  return view(out, [...info.outShape]);
}

/** dX of conv2d given dY: [batch, inH, inW, inC]. */
export function conv2dBackpropInput(
  backend: WebGPUBackend,
  info: backend_util.Conv2DInfo,
  dy: TensorInfo,
  filter: TensorInfo,
  options: ConvOptions = {},
): TensorInfo {
  if (useDirect(backend, 'input', info, options)) {
    const total = (info.batchSize * info.inHeight * info.inWidth * info.inChannels) / 4;
    const out = runDirect(
      backend,
      info,
      'input',
      DIRECT_INPUT_SOURCE,
      ['DY', 'W'],
      [dy, filter],
      [4, 4],
      total,
    );
    return view(out, [...info.inShape]);
  }
  const m = info.batchSize * info.inHeight * info.inWidth;
  const k = info.filterHeight * info.filterWidth * info.outChannels;
  const g: Gemm = { pass: 'input', m, n: info.inChannels, k, ...options };
  return view(runGemm(backend, info, g, ['DY', 'W'], [dy, filter]), [...info.inShape]);
}

/** dW of conv2d given x and dY: [fH, fW, inC, outC]. */
export function conv2dBackpropFilter(
  backend: WebGPUBackend,
  info: backend_util.Conv2DInfo,
  x: TensorInfo,
  dy: TensorInfo,
  options: ConvOptions = {},
): TensorInfo {
  const m = info.filterHeight * info.filterWidth * info.inChannels;
  const shape = [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels];
  if (useDirect(backend, 'filter', info, options)) {
    const outputs = (m * info.outChannels) / 4;
    const rows = info.batchSize * info.outHeight;
    const wanted = options.splits ?? chooseDirectSplits(outputs, rows, isFallbackDevice(backend.device));
    const rowsPerSlice = Math.ceil(rows / wanted);
    const splits = Math.ceil(rows / rowsPerSlice);
    const partials = runDirect(
      backend,
      info,
      'filter',
      DIRECT_FILTER_SOURCE,
      ['X', 'DY'],
      [x, dy],
      [1, 4],
      outputs * splits,
      rowsPerSlice,
    );
    return view(sumSlices(backend, partials, m * info.outChannels, splits), shape);
  }
  const k = info.batchSize * info.outHeight * info.outWidth;
  const g: Gemm = { pass: 'filter', m, n: info.outChannels, k, ...options };
  return view(runGemm(backend, info, g, ['X', 'DY'], [x, dy]), shape);
}
