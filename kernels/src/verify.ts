/**
 * Device-level checks the runtime calls: `verifyKernels` runs the correctness suite on the active
 * webgpu device and marks each kernel passed or failed (failed ones route to TF.js from then on);
 * `kernelSupport` reports adapter, features, limits and each kernel's state; `watchDeviceLoss`
 * marks everything failed when the device is lost and tells the runtime, which can switch backend
 * and redo its unit.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { CONV_SUITES } from './conv/conv.suite.ts';
import { type DeviceFeatures, deviceFeatures, KERNEL_NEEDS, unmetNeeds } from './gpu/features.ts';
import { POOL_GRAD_SUITES } from './pool-grad/pool-grad.suite.ts';
import { type KernelState, kernelStatus, markKernel } from './registry.ts';
import { type CheckResult, describeFailure } from './suite/check.ts';
import { runSuite } from './suite/run.ts';
import { SUITES } from './suite/suites.ts';

export interface KernelReport {
  name: string;
  state: KernelState | 'unsupported';
  reason?: string;
}

export interface KernelSupport {
  backend: string;
  adapter: { vendor: string; architecture: string; device: string; description: string } | null;
  device: DeviceFeatures | null;
  kernels: KernelReport[];
}

function activeWebGPU(): WebGPUBackend | null {
  return tf.getBackend() === 'webgpu' ? (tf.backend() as WebGPUBackend) : null;
}

export function kernelSupport(): KernelSupport {
  const backend = activeWebGPU();
  const names = Object.keys(KERNEL_NEEDS);
  if (!backend) {
    const reason = `backend is ${tf.getBackend()}: ops use TF.js`;
    return {
      backend: tf.getBackend(),
      adapter: null,
      device: null,
      kernels: names.map((name) => ({ name, state: 'unsupported', reason })),
    };
  }
  const info = (backend as unknown as { adapterInfo?: { vendor?: string; architecture?: string } })
    .adapterInfo;
  const device = backend.device;
  return {
    backend: 'webgpu',
    adapter: adapterOf(device, info),
    device: deviceFeatures(device),
    kernels: names.map((name) => {
      const unmet = unmetNeeds(device, name);
      return unmet ? { name, state: 'unsupported', reason: unmet } : { name, ...kernelStatus(backend, name) };
    }),
  };
}

function adapterOf(device: GPUDevice, fallback?: { vendor?: string; architecture?: string }) {
  // GPUDevice.adapterInfo is newer than some browsers; TF.js keeps vendor/architecture itself.
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return {
    vendor: info?.vendor ?? fallback?.vendor ?? '',
    architecture: info?.architecture ?? fallback?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
}

/**
 * The suites of the convolution and pooling-gradient kernels. Only a model with conv or pooling
 * layers calls them, and their shaders take most of a start-up check on a CPU adapter (about 45 s
 * of SwiftShader compiles on a loaded 2-core machine), so a runtime verifies them when a job's
 * model needs them rather than at start-up. Until then they are `unverified` (usable).
 */
export const CONV_OPS: readonly string[] = [...CONV_SUITES, ...POOL_GRAD_SUITES].map((s) => s.op);

export interface VerifyOptions {
  /** Skip the cases marked heavy: a start-up check that stays short even on a CPU adapter. */
  quick?: boolean;
  /** Only these ops' suites (default: every suite). */
  ops?: readonly string[];
  /** Leave these ops' suites out (their kernels keep their state). */
  except?: readonly string[];
}

/** Whether some kernel of these ops' suites has not been verified on the active webgpu device. */
export function needsVerification(ops: readonly string[]): boolean {
  const backend = activeWebGPU();
  if (!backend) return false;
  return SUITES.filter((s) => ops.includes(s.op)).some((s) =>
    s.kernels.some((k) => kernelStatus(backend, k).state === 'unverified'),
  );
}

/** Runs the ops' suites on the active webgpu device and marks their kernels passed or failed. */
export async function verifyKernels(options: VerifyOptions = {}): Promise<CheckResult[]> {
  const backend = activeWebGPU();
  if (!backend) return [];
  const results: CheckResult[] = [];
  const chosen = SUITES.filter(
    (s) => (!options.ops || options.ops.includes(s.op)) && !options.except?.includes(s.op),
  );
  for (const suite of chosen) {
    // Re-verify from scratch: a kernel marked failed would otherwise be bypassed and the suite
    // would test the TF.js fallback instead.
    for (const k of suite.kernels) markKernel(backend, k, { state: 'unverified' });
    const cases = options.quick ? suite.cases.filter((c) => !c.heavy) : suite.cases;
    const r = await runSuite([{ ...suite, cases }]);
    const failed = r.find((x) => !x.ok);
    for (const k of suite.kernels) {
      markKernel(
        backend,
        k,
        failed ? { state: 'failed', reason: describeFailure(failed) } : { state: 'passed' },
      );
    }
    results.push(...r);
  }
  return results;
}

/** Marks every kernel failed on device loss and calls `onLost`, so the runtime can switch backend. */
export function watchDeviceLoss(onLost: (reason: string) => void): void {
  const backend = activeWebGPU();
  if (!backend) return;
  backend.device.lost.then((info) => {
    const reason = `device lost (${info.reason}): ${info.message}`;
    for (const name of Object.keys(KERNEL_NEEDS)) markKernel(backend, name, { state: 'failed', reason });
    onLost(reason);
  });
}
