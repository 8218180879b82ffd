/**
 * Our kernels that stand in for TF.js's own webgpu kernels under TF.js's kernel names (Conv2D,
 * Conv2DBackpropFilter, MaxPoolGrad...), so every model that calls tf.conv2d or a tf.layers
 * convolution gets them, autodiff included. A kernel name maps to one function per backend, so
 * ours replaces TF.js's; the original is kept and every call decides:
 *   - ours, when the call is one ours handles (`plan` returns a run) and `webgpuFor` allows it
 *     (not failed the suite on this device, not set aside by calibration, limits met);
 *   - else TF.js's original, so a kernel that fails its start-up check costs speed, never a
 *     wrong answer or a model that cannot run.
 * Calls per route are counted per backend, so tests and the bench can tell which one ran.
 */
import {
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  registerKernel,
  type TensorInfo,
  unregisterKernel,
} from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
// Evaluated first so TF.js's webgpu kernels are registered before installOverrides replaces them.
import '@tensorflow/tfjs-backend-webgpu';
import { webgpuFor } from '../registry.ts';

export interface OverrideArgs<I = Record<string, TensorInfo | undefined>> {
  /** The kernel's named inputs, as TF.js's op passes them (optional ones may be absent). */
  inputs: I;
  backend: WebGPUBackend;
  attrs: NamedAttrMap;
}

/** A call ours can take: the largest buffer it binds (for the device limit) and the run itself. */
export interface Plan {
  maxBytes: number;
  run(backend: WebGPUBackend): TensorInfo;
}

export interface Override<I> {
  /** TF.js's kernel name, e.g. 'Conv2DBackpropFilter'. */
  kernelName: string;
  /** Our kernel's name in the registry's status map, e.g. 'GridTabConv2DBackpropFilter'. */
  ours: string;
  /** null when the call is outside what ours handles (NCHW, dilation, another activation...). */
  plan(args: OverrideArgs<I>): Plan | null;
}

export type Route = 'ours' | 'tfjs';
const routes = new WeakMap<object, Map<string, Record<Route, number>>>();

/** How often each TF.js kernel name went to ours and to TF.js on this backend. */
export function overrideRoutes(backend: object, kernelName: string): Record<Route, number> {
  return { ours: 0, tfjs: 0, ...routes.get(backend)?.get(kernelName) };
}

function count(backend: object, kernelName: string, route: Route): void {
  let map = routes.get(backend);
  if (!map) {
    map = new Map();
    routes.set(backend, map);
  }
  const counts = map.get(kernelName) ?? { ours: 0, tfjs: 0 };
  counts[route]++;
  map.set(kernelName, counts);
}

/** TF.js's originals that ours replaced, by kernel name: the fallback. */
const originals = new Map<string, KernelConfig>();

export function overrideConfig<I>(o: Override<I>): KernelConfig {
  const kernelFunc = (args: OverrideArgs<I>): TensorInfo | TensorInfo[] => {
    const plan = o.plan(args);
    if (plan && webgpuFor(o.ours, plan.maxBytes) === args.backend) {
      count(args.backend, o.kernelName, 'ours');
      return plan.run(args.backend);
    }
    const original = originals.get(o.kernelName);
    if (!original) throw new Error(`no TF.js webgpu ${o.kernelName} kernel to fall back to`);
    count(args.backend, o.kernelName, 'tfjs');
    return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
  };
  return { kernelName: o.kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * Puts `configs` in place of TF.js's webgpu kernels of the same names; idempotent. Must run after
 * TF.js's webgpu backend registered its kernels (importing '@tensorflow/tfjs-backend-webgpu' does).
 */
export function installOverrides(configs: KernelConfig[]): void {
  for (const config of configs) {
    const current = getKernel(config.kernelName, 'webgpu');
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current) {
      // A previous install of ours (a hot reload, a test's replacement) is not an original.
      if (!originals.has(config.kernelName)) originals.set(config.kernelName, current);
      unregisterKernel(config.kernelName, 'webgpu');
    }
    registerKernel(config);
  }
}
