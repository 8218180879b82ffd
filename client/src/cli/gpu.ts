/**
 * WebGPU for the Node worker through the `webgpu` package (Dawn). Only a real GPU counts: a
 * software adapter (SwiftShader, lavapipe) trains far slower than TF.js's wasm backend, so the
 * worker then leaves webgpu out of its candidates.
 */
export interface WorkerGpu {
  adapter: string;
  release(): void;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software/i;

export async function findRealGpu(log: (msg: string) => void): Promise<WorkerGpu | null> {
  let mod: typeof import('webgpu');
  try {
    mod = await import('webgpu');
  } catch (e) {
    log(`no webgpu package (${(e as Error).message}); using wasm`);
    return null;
  }
  Object.assign(globalThis, mod.globals);
  let gpu: GPU | null = mod.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  const info = adapter?.info;
  const name = info ? `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.trim() : '';
  if (
    !adapter ||
    (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ||
    SOFTWARE.test(name)
  ) {
    log(adapter ? `GPU adapter '${name}' is a software fallback; using wasm` : 'no GPU adapter; using wasm');
    gpu = null;
    return null;
  }
  const { registerWebGPU } = await import('@gridtab/kernels');
  if (!(await registerWebGPU(gpu))) return null;
  return {
    adapter: name,
    release() {
      gpu = null;
    },
  };
}
