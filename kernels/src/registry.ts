/**
 * Which of our kernels may run on the current backend. A kernel starts `unverified` (usable),
 * becomes `passed` or `failed` once the correctness suite has run on this device, and ops consult
 * the state on every call so a failed kernel silently routes to the TF.js sequence instead.
 * State hangs off the backend instance (a WeakMap), not a module global: a new device, e.g. after
 * a device loss, starts unverified again.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { unmetNeeds } from './gpu/features.ts';

export type KernelState = 'unverified' | 'passed' | 'failed';

export interface KernelStatus {
  state: KernelState;
  /** Why it failed: the first failing case, or the error the kernel threw. */
  reason?: string;
  /** Set by calibration: TF.js ms / ours at the demo shapes on this device. */
  speedup?: number;
  /** Set by calibration when TF.js's sequence was faster here: ops then take the TF.js path. */
  prefer?: 'ours' | 'tfjs';
}

const statusByBackend = new WeakMap<object, Map<string, KernelStatus>>();

function statusMap(backend: object): Map<string, KernelStatus> {
  let map = statusByBackend.get(backend);
  if (!map) {
    map = new Map();
    statusByBackend.set(backend, map);
  }
  return map;
}

export function kernelStatus(backend: object, kernel: string): KernelStatus {
  return statusMap(backend).get(kernel) ?? { state: 'unverified' };
}

export function markKernel(backend: object, kernel: string, status: KernelStatus): void {
  statusMap(backend).set(kernel, status);
}

/** Lets the runtime (or a user setting) force the TF.js path on webgpu without unloading anything. */
const forcedOff = new WeakSet<object>();
export function setKernelsEnabled(backend: object, enabled: boolean): void {
  if (enabled) forcedOff.delete(backend);
  else forcedOff.add(backend);
}

/**
 * The webgpu backend if our kernel `kernel` may run now for buffers of at most `maxBytes`,
 * else null (caller takes the TF.js path): not failed on this device, its limits met. Small mobile adapters cap a storage binding at 128 MiB.
 */
export function webgpuFor(kernel: string, maxBytes: number): WebGPUBackend | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const backend = tf.backend() as WebGPUBackend;
  if (forcedOff.has(backend)) return null;
  const status = kernelStatus(backend, kernel);
  if (status.state === 'failed' || status.prefer === 'tfjs') return null;
  if (unmetNeeds(backend.device, kernel)) return null;
  if (maxBytes > backend.device.limits.maxStorageBufferBindingSize) return null;
  return backend;
}
