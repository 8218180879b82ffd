/**
 * GridTab's pooling gradients in place of TF.js's webgpu MaxPoolGrad and AvgPoolGrad (see
 * gpu/override.ts for the replacement and its fallback). Ours take NHWC float32 2-D pools, which
 * is what tf.maxPool / tf.avgPool and the tf.layers pooling layers produce; anything else goes
 * to TF.js's kernel.
 */
import { AvgPoolGrad, backend_util, type KernelConfig, MaxPoolGrad, type TensorInfo } from '@tensorflow/tfjs';
import { type OverrideArgs, overrideConfig } from '../gpu/override.ts';
import type { PoolKind } from './pool-grad.wgsl.ts';
import { AVG_POOL_GRAD, MAX_POOL_GRAD, poolGrad } from './pool-grad-kernel.ts';

type PoolInputs = { dy: TensorInfo; input: TensorInfo };

function poolPlan(kind: PoolKind, { inputs, attrs }: OverrideArgs<PoolInputs>) {
  const { dy, input } = inputs;
  const used: TensorInfo[] = kind === 'max' ? [dy, input] : [dy];
  if (input.shape.length !== 4 || used.some((t) => t.dtype !== 'float32')) return null;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  return {
    maxBytes: 4 * Math.max(size(input.shape), size(dy.shape)),
    run: (backend: OverrideArgs['backend']) =>
      poolGrad(backend, kind, info, dy, kind === 'max' ? input : undefined),
  };
}

export const maxPoolGradConfig: KernelConfig = overrideConfig<PoolInputs>({
  kernelName: MaxPoolGrad,
  ours: MAX_POOL_GRAD,
  plan: (args) => poolPlan('max', args),
});

export const avgPoolGradConfig: KernelConfig = overrideConfig<PoolInputs>({
  kernelName: AvgPoolGrad,
  ours: AVG_POOL_GRAD,
  plan: (args) => poolPlan('avg', args),
});

export const POOL_GRAD_CONFIGS: KernelConfig[] = [maxPoolGradConfig, avgPoolGradConfig];
