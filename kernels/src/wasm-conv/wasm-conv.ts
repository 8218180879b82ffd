/**
 * Registration of GridTab's convolution gradients on TF.js's wasm backend: one explicit list,
 * idempotent, callable wherever the wasm backend is set up (the contributor runtime, the
 * headless worker, the coordinator's spot-check recompute). The wasm backend's own
 * Conv2DBackpropInput is replaced, not kept beside ours: a kernel name maps to one function per
 * backend, and ours is the faster one (bench/cnn.ts measures both).
 */
import { getKernel, type KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import { wasmConv2DBackpropFilterConfig, wasmConv2DBackpropInputConfig } from './wasm-conv-kernel.ts';

export const WASM_CONV_CONFIGS: KernelConfig[] = [
  wasmConv2DBackpropFilterConfig,
  wasmConv2DBackpropInputConfig,
];

/** TF.js's originals that ours replaced, by kernel name, so benchmarks can still time them. */
const replaced = new Map<string, KernelConfig>();

export function registerWasmConvKernels(): void {
  for (const config of WASM_CONV_CONFIGS) {
    const current = getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current) {
      replaced.set(config.kernelName, current);
      unregisterKernel(config.kernelName, 'wasm');
    }
    registerKernel(config);
  }
}

/** Puts TF.js's own wasm kernels back (the benchmark's baseline); ours stay in WASM_CONV_CONFIGS. */
export function unregisterWasmConvKernels(): void {
  for (const config of WASM_CONV_CONFIGS) {
    if (getKernel(config.kernelName, 'wasm')?.kernelFunc !== config.kernelFunc) continue;
    unregisterKernel(config.kernelName, 'wasm');
    const original = replaced.get(config.kernelName);
    if (original) registerKernel(original);
  }
}
