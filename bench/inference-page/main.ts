/**
 * The browser half of `npm run bench:inference`: the SDK and plain TF.js predict on the same
 * model and backend in the same page, interleaved call by call so drift in the machine's load
 * hits both alike, and the time from loadModel to a first prediction.
 */
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel } from '@gridtab/client/inference';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

setWasmPaths('/vendor/tfjs-wasm/');
// The page is cross-origin isolated only for timer resolution; keep wasm single-threaded as an
// ordinary (non-isolated) app page gets it.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

const inputs = Array.from({ length: 16 }, (_, k) =>
  Float32Array.from({ length: 784 }, (_, i) => ((i * 31 + k * 7) % 255) / 255),
);

async function firstPrediction(backend: string) {
  const started = performance.now();
  const model = await loadModel('bench', {
    coordinator: location.origin,
    backend: backend as 'auto',
    live: false,
    telemetry: false,
  });
  await model.predict(inputs[0]);
  const ms = performance.now() - started;
  const result = { ms, backend: model.backend, version: model.version };
  model.dispose();
  return result;
}

async function compare(backend: string, iterations: number) {
  const model = await loadModel('bench', { coordinator: location.origin, backend: backend as 'auto' });
  const plain = await tf.loadLayersModel(`/api/models/bench/versions/${model.version}/model.json`);
  const plainPredict = async (values: Float32Array) => {
    const x = tf.tensor(values, [1, 28, 28, 1]);
    const y = plain.predict(x) as tf.Tensor;
    const out = await y.data();
    tf.dispose([x, y]);
    return out;
  };
  for (let i = 0; i < 10; i++) {
    await model.predict(inputs[i % inputs.length]);
    await plainPredict(inputs[i % inputs.length]);
  }
  const sdk: number[] = [];
  const base: number[] = [];
  let maxDiff = 0;
  for (let i = 0; i < iterations; i++) {
    const values = inputs[i % inputs.length];
    // Alternate which goes first, so neither always runs right after the other's GPU work.
    const order = i % 2 === 0 ? ['sdk', 'plain'] : ['plain', 'sdk'];
    let a: ArrayLike<number> = [];
    let b: ArrayLike<number> = [];
    for (const which of order) {
      const t0 = performance.now();
      if (which === 'sdk') a = await model.predict(values);
      else b = await plainPredict(values);
      (which === 'sdk' ? sdk : base).push(performance.now() - t0);
    }
    for (let k = 0; k < a.length; k++) maxDiff = Math.max(maxDiff, Math.abs(a[k] - b[k]));
  }
  const used = model.backend;
  model.dispose();
  plain.dispose();
  return { backend: used, sdk, plain: base, maxDiff };
}

Object.assign(window, { bench: { firstPrediction, compare, backends: () => tf.engine().registryFactory } });
(window as unknown as { benchReady: boolean }).benchReady = true;
