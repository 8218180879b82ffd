/**
 * TF.js in the coordinator's Node process. The wasm backend is the fastest pure-JS-installable
 * backend here (tfjs-node is not an option: its install downloads a native library); cpu is the
 * fallback when wasm cannot start. GridTab's convolution gradients are registered on wasm, since
 * spot-check recompute trains the job's model here, CNNs included.
 */
import { registerWasmConvKernels } from '@gridtab/kernels/wasm-conv';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

registerWasmConvKernels();

let ready: Promise<string> | null = null;

export function initTf(): Promise<string> {
  ready ??= (async () => {
    try {
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return 'wasm';
      }
    } catch {
      // fall through to cpu
    }
    await tf.setBackend('cpu');
    await tf.ready();
    return 'cpu';
  })();
  return ready;
}

export { tf };
