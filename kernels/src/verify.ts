/**
 * Device-level checks the runtime calls: `verifyKernels` runs the correctness suite on the active
 * webgpu device and marks each kernel passed or failed (failed ones route to TF.js from then on);
 * `kernelSupport` reports adapter, features, limits and each kernel's state; `watchDeviceLoss`
 * marks everything failed when the device is lost and tells the runtime, which can switch backend
 * and redo its unit.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { type DeviceFeatures, deviceFeatures, KERNEL_NEEDS, unmetNeeds } from './gpu/features.ts';
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
 * Runs every op's suite on the active webgpu device and marks its kernels. `quick` skips the
 * cases marked heavy, for a start-up check that stays short even on a CPU fallback adapter.
 */
export async function verifyKernels(options: { quick?: boolean } = {}): Promise<CheckResult[]> {
  const backend = activeWebGPU();
  if (!backend) return [];
  const results: CheckResult[] = [];
  for (const suite of SUITES) {
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
