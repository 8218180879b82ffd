/**
 * GridTab's convolution kernels in place of TF.js's webgpu Conv2D, FusedConv2D,
 * Conv2DBackpropInput and Conv2DBackpropFilter (see gpu/override.ts for the replacement and its
 * fallback). Ours take NHWC float32 at dilation 1, with a linear, relu or relu6 activation and a
 * per-channel bias; every other call (NCHW, dilation, prelu, leaky relu...) goes to TF.js's kernel.
 * TF.js's fused conv2d gradient applies the activation's derivative itself and then calls the two
 * backprop kernels, so a tf.layers CNN trains through all of ours.
 */
import {
  backend_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  FusedConv2D,
  type KernelConfig,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs';
import { type OverrideArgs, overrideConfig } from '../gpu/override.ts';
import type { ConvActivation } from './conv.wgsl.ts';
import {
  CONV2D,
  CONV2D_BACKPROP_FILTER,
  CONV2D_BACKPROP_INPUT,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  conv2dForward,
} from './conv-kernel.ts';

type Shape4 = [number, number, number, number];
const ACTIVATIONS = new Set<string>(['linear', 'relu', 'relu6']);
const bytes = (...shapes: readonly number[][]) =>
  4 * Math.max(...shapes.map((s) => s.reduce((a, b) => a * b, 1)));

/** The call's geometry when ours handles it: NHWC, float32 inputs, dilation 1. */
function geometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: NamedAttrMap,
  inputs: TensorInfo[],
): backend_util.Conv2DInfo | null {
  if (xShape.length !== 4 || filterShape.length !== 4) return null;
  if (attrs.dataFormat === 'NCHW' || inputs.some((t) => t.dtype !== 'float32')) return null;
  const dilations = (attrs.dilations ?? 1) as number | [number, number];
  if (!backend_util.tupleValuesAreOne(dilations)) return null;
  return backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}

interface ForwardInputs {
  x: TensorInfo;
  filter: TensorInfo;
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
}

function forwardPlan({ inputs, attrs }: OverrideArgs<ForwardInputs>, fused: boolean) {
  const { x, filter, bias, preluActivationWeights } = inputs;
  const activation = ((fused && attrs.activation) || 'linear') as string;
  if (!ACTIVATIONS.has(activation) || preluActivationWeights) return null;
  const info = geometry(x.shape, filter.shape, attrs, bias ? [x, filter, bias] : [x, filter]);
  if (!info) return null;
  // A bias broadcast from a scalar or of another shape is TF.js's to handle.
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== info.outChannels)) return null;
  return {
    maxBytes: bytes(x.shape, filter.shape, info.outShape),
    run: (backend: OverrideArgs['backend']) =>
      conv2dForward(backend, info, x, filter, bias, activation as ConvActivation),
  };
}

export const conv2dConfig: KernelConfig = overrideConfig<ForwardInputs>({
  kernelName: Conv2D,
  ours: CONV2D,
  plan: (args) => forwardPlan(args, false),
});

export const fusedConv2dConfig: KernelConfig = overrideConfig<ForwardInputs>({
  kernelName: FusedConv2D,
  ours: CONV2D,
  plan: (args) => forwardPlan(args, true),
});

export const conv2dBackpropInputConfig: KernelConfig = overrideConfig<{ dy: TensorInfo; filter: TensorInfo }>(
  {
    kernelName: Conv2DBackpropInput,
    ours: CONV2D_BACKPROP_INPUT,
    plan: ({ inputs: { dy, filter }, attrs }) => {
      const info = geometry(attrs.inputShape as number[], filter.shape, attrs, [dy, filter]);
      if (!info) return null;
      return {
        maxBytes: bytes(dy.shape, filter.shape, info.inShape),
        run: (backend) => conv2dBackpropInput(backend, info, dy, filter),
      };
    },
  },
);

export const conv2dBackpropFilterConfig: KernelConfig = overrideConfig<{ x: TensorInfo; dy: TensorInfo }>({
  kernelName: Conv2DBackpropFilter,
  ours: CONV2D_BACKPROP_FILTER,
  plan: ({ inputs: { x, dy }, attrs }) => {
    const info = geometry(x.shape, attrs.filterShape as number[], attrs, [x, dy]);
    if (!info) return null;
    return {
      // dW's split-K partials are at most 8 (CPU) or 128 slices of the filter, or K long.
      maxBytes: bytes(x.shape, dy.shape, [128, ...(attrs.filterShape as number[])]),
      run: (backend) => conv2dBackpropFilter(backend, info, x, dy),
    };
  },
});

export const CONV_CONFIGS: KernelConfig[] = [
  conv2dConfig,
  fusedConv2dConfig,
  conv2dBackpropInputConfig,
  conv2dBackpropFilterConfig,
];
