/**
 * @gridtab/kernels: GridTab's WGSL kernels for TF.js's webgpu backend, and the ops that use them
 * on webgpu and fall back to TF.js sequences on every other backend.
 *
 * Registration is one explicit list (KERNEL_CONFIGS), done on import; it is idempotent, so
 * several importers (or a hot reload) are harmless.
 */

import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { CONV_CONFIGS } from './conv/conv.ts';
import { fusedDenseGradConfig } from './dense/dense.ts';
import {
  denseBackpropBiasConfig,
  denseBackpropFilterConfig,
  denseBackpropInputConfig,
  fusedDenseConfig,
} from './dense/dense-kernel.ts';
import { installOverrides } from './gpu/override.ts';
import { adamStepConfig, momentumStepConfig } from './optimizer/optimizer-kernel.ts';
import { POOL_GRAD_CONFIGS } from './pool-grad/pool-grad.ts';
import { dequantizeInt8Config, quantizeInt8Config } from './quantize/quantize-kernel.ts';
import { softmaxXentConfig } from './softmax-xent/softmax-xent-kernel.ts';
import { topKHistogramConfig, topKSelectConfig } from './topk/topk-kernel.ts';
import { weightedSumConfig } from './weighted-sum/weighted-sum-kernel.ts';

export const KERNEL_CONFIGS: KernelConfig[] = [
  fusedDenseConfig,
  denseBackpropInputConfig,
  denseBackpropFilterConfig,
  denseBackpropBiasConfig,
  softmaxXentConfig,
  quantizeInt8Config,
  dequantizeInt8Config,
  weightedSumConfig,
  adamStepConfig,
  momentumStepConfig,
  topKHistogramConfig,
  topKSelectConfig,
];

export const GRADIENT_CONFIGS: GradConfig[] = [fusedDenseGradConfig];

/** Ours in place of TF.js's webgpu kernels of the same names, each falling back to TF.js's. */
export const OVERRIDE_CONFIGS: KernelConfig[] = [...CONV_CONFIGS, ...POOL_GRAD_CONFIGS];

export function registerKernels(): void {
  for (const config of KERNEL_CONFIGS) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
  for (const config of GRADIENT_CONFIGS) {
    if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
  }
  installOverrides(OVERRIDE_CONFIGS);
}

registerKernels();

export { type Calibration, calibrateKernels } from './bench/calibrate.ts';
export { type BenchReport, runKernelBench, toMarkdown } from './bench/run.ts';
export {
  CONV2D,
  CONV2D_BACKPROP_FILTER,
  CONV2D_BACKPROP_INPUT,
} from './conv/conv-kernel.ts';
export {
  type Activation,
  type DenseGrads,
  denseBackward,
  fusedDense,
  fusedDenseTfjs,
} from './dense/dense.ts';
export { type DeviceFeatures, isFallbackDevice, KERNEL_NEEDS } from './gpu/features.ts';
export { overrideRoutes } from './gpu/override.ts';
export { registerWebGPU } from './gpu/setup.ts';
export {
  ADAM_SLOTS,
  type AdamConfig,
  adamStep,
  adamStepTfjs,
  initialState,
  MOMENTUM_SLOTS,
  type MomentumConfig,
  momentumStep,
  momentumStepTfjs,
  paramsOf,
} from './optimizer/optimizer.ts';
export { AVG_POOL_GRAD, MAX_POOL_GRAD } from './pool-grad/pool-grad-kernel.ts';
export {
  DEFAULT_BLOCK_SIZE,
  decodeInt8Host,
  dequantizeInt8,
  dequantizeInt8Tfjs,
  encodeInt8Host,
  type Int8Blocks,
  type Int8Layout,
  int8Layout,
  quantizeInt8,
  quantizeInt8Tfjs,
} from './quantize/quantize.ts';
export { type KernelState, type KernelStatus, kernelStatus, setKernelsEnabled } from './registry.ts';
export {
  type SoftmaxXent,
  softmaxCrossEntropy,
  softmaxCrossEntropyLoss,
  softmaxCrossEntropyTfjs,
} from './softmax-xent/softmax-xent.ts';
export { type CheckResult, describeFailure, type SuiteCase } from './suite/check.ts';
export { type OpSuite, runSuite } from './suite/run.ts';
export { findBin, type TopK, topKWithFeedback } from './topk/topk.ts';
export {
  CONV_OPS,
  type KernelReport,
  type KernelSupport,
  kernelSupport,
  needsVerification,
  type VerifyOptions,
  verifyKernels,
  watchDeviceLoss,
} from './verify.ts';
export { weightedSum, weightedSumTfjs } from './weighted-sum/weighted-sum.ts';
