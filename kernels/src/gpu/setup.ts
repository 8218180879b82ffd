/**
 * Registers TF.js's webgpu backend on a given `GPU` object (the browser's navigator.gpu, or
 * Dawn's in Node). We request the device ourselves rather than relying on the package's import-time
 * registration: it only registers when navigator.gpu exists at import time (not so in Node), and
 * we want the adapter's larger limits and optional features (shader-f16) enabled when present.
 */
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** Optional features we enable when the adapter has them; kernels pick variants from the device. */
const WANTED_FEATURES: GPUFeatureName[] = ['shader-f16', 'timestamp-query'];

export async function registerWebGPU(gpu: GPU, backendName = 'webgpu'): Promise<boolean> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return false;
  // WebGPUBackend's constructor checks navigator.gpu; Node 20 has no navigator at all.
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) g.navigator = { gpu };
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: WANTED_FEATURES.filter((f) => adapter.features.has(f)),
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });
  if (tf.findBackendFactory(backendName)) tf.removeBackend(backendName);
  tf.registerBackend(backendName, () => new WebGPUBackend(device, adapter.info), 3);
  return true;
}
