/**
 * What the device offers and what each kernel needs. All our kernels fit WebGPU's default
 * limits, but compatibility-mode and small mobile adapters go below them (e.g. 4 storage buffers
 * per stage), so each kernel states its needs and `webgpuFor` routes to TF.js when they are not met.
 * Optional features are detected and reported; no kernel has an f16 or subgroup variant yet, as
 * neither could be validated here (SwiftShader has no shader-f16, and TF.js writes the shader
 * prologue, where `enable subgroups;` would have to go).
 */

export interface KernelNeeds {
  /** Threads per workgroup. */
  invocations: number;
  /** Bytes of var<workgroup> memory. */
  workgroupStorage: number;
  /** Storage buffers bound at once, output included. */
  storageBuffers: number;
}

const needs = (invocations: number, workgroupStorage: number, storageBuffers: number): KernelNeeds => ({
  invocations,
  workgroupStorage,
  storageBuffers,
});

/** Keyed by kernel name; the weighted sum adapts its fan-in, so it needs only 3 bindings. */
export const KERNEL_NEEDS: Record<string, KernelNeeds> = {
  GridTabFusedDense: needs(256, 2 * 64 * 16 * 4, 4),
  GridTabDenseBackpropInput: needs(256, 2 * 64 * 16 * 4, 4),
  GridTabDenseBackpropFilter: needs(256, 2 * 64 * 16 * 4, 4),
  GridTabDenseBackpropBias: needs(256, 16 * 16 * 4, 3),
  GridTabSoftmaxCrossEntropy: needs(64, 3 * 64 * 4, 3),
  GridTabQuantizeInt8: needs(64, 64 * 4, 2),
  GridTabDequantizeInt8: needs(64, 0, 2),
  GridTabWeightedSum: needs(64, 0, 3),
  GridTabAdamStep: needs(64, 0, 3),
  GridTabMomentumStep: needs(64, 0, 3),
  GridTabTopKHistogram: needs(64, 0, 2),
  GridTabTopKSelect: needs(64, 0, 2),
  GridTabConv2D: needs(256, 2 * 64 * 16 * 4, 4),
  GridTabConv2DBackpropInput: needs(256, 2 * 64 * 16 * 4, 3),
  GridTabConv2DBackpropFilter: needs(256, 2 * 64 * 16 * 4, 3),
  GridTabMaxPoolGrad: needs(64, 0, 3),
  GridTabAvgPoolGrad: needs(64, 0, 2),
};

/** Why `device` cannot run `kernel`, or null when it can. */
export function unmetNeeds(device: GPUDevice, kernel: string): string | null {
  const n = KERNEL_NEEDS[kernel];
  if (!n) return null;
  const l = device.limits;
  if (n.invocations > l.maxComputeInvocationsPerWorkgroup || n.invocations > l.maxComputeWorkgroupSizeX) {
    return `needs ${n.invocations} invocations per workgroup`;
  }
  if (n.workgroupStorage > l.maxComputeWorkgroupStorageSize)
    return `needs ${n.workgroupStorage} B workgroup storage`;
  if (n.storageBuffers > l.maxStorageBuffersPerShaderStage)
    return `needs ${n.storageBuffers} storage buffers`;
  return null;
}

export interface DeviceFeatures {
  shaderF16: boolean;
  subgroups: boolean;
  timestampQuery: boolean;
  limits: {
    maxComputeWorkgroupSizeX: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupStorageSize: number;
    maxStorageBufferBindingSize: number;
    maxStorageBuffersPerShaderStage: number;
    maxComputeWorkgroupsPerDimension: number;
  };
}

export function deviceFeatures(device: GPUDevice): DeviceFeatures {
  const l = device.limits;
  return {
    shaderF16: device.features.has('shader-f16'),
    subgroups: device.features.has('subgroups'),
    timestampQuery: device.features.has('timestamp-query'),
    limits: {
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  };
}

/**
 * SwiftShader and other CPU implementations: correct, but they run workgroups on a few CPU
 * threads, so timings say nothing about GPUs and tiling should favour few, large workgroups.
 */
export function isFallbackDevice(device: GPUDevice): boolean {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } })
    .adapterInfo;
  if (info?.isFallbackAdapter) return true;
  const text = `${info?.vendor} ${info?.architecture} ${info?.device} ${info?.description}`.toLowerCase();
  return /swiftshader|llvmpipe|lavapipe|software/.test(text);
}
