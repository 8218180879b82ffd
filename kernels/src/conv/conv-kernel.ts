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
}

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
  const k = info.batchSize * info.outHeight * info.outWidth;
  const g: Gemm = { pass: 'filter', m, n: info.outChannels, k, ...options };
  const shape = [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels];
  return view(runGemm(backend, info, g, ['X', 'DY'], [x, dy]), shape);
}
