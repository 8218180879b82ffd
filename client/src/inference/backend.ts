/**
 * Backend choice for inference. TF.js keeps one global backend, so the SDK picks it once per
 * page (or worker): 'auto' takes the first that starts in the order WebGPU, WebGL, WebAssembly,
 * CPU (only backends the app registered by importing them are candidates); 'fastest' measures
 * the app's own model on each (see model.ts), because on a CPU fallback adapter WebGPU starts
 * fine yet runs slower than WebGL.
 */
import * as tf from '@tensorflow/tfjs';

export type BackendPreference = 'auto' | 'fastest' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

export const BACKEND_ORDER = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

const START_TIMEOUT_MS = 15_000;

/** Starts one backend; false when it is not registered, has no device, or fails to start. */
export async function tryBackend(name: string): Promise<boolean> {
  if (!tf.findBackendFactory(name)) return false;
  if (name === 'webgpu' && !(globalThis.navigator as Navigator | undefined)?.gpu) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), START_TIMEOUT_MS);
    });
    const ok = await Promise.race([tf.setBackend(name), timeout]);
    if (ok) await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Backends that start here, in preference order. */
export async function availableBackends(): Promise<string[]> {
  const out: string[] = [];
  for (const name of BACKEND_ORDER) if (await tryBackend(name)) out.push(name);
  return out;
}

/** For 'auto' and a named backend: the backend now in use. */
export async function startBackend(pref: Exclude<BackendPreference, 'fastest'>): Promise<string> {
  const order = pref === 'auto' ? BACKEND_ORDER : [pref];
  for (const name of order) if (await tryBackend(name)) return name;
  throw new Error(`no TF.js backend could start (tried ${order.join(', ')})`);
}
