/**
 * The same SDK inside a Web Worker (the page's `?worker=1` mode): inference off the main
 * thread. The page posts ImageData; the worker answers with classifications and passes on
 * version swaps and errors.
 */
import '@tensorflow/tfjs-backend-webgpu';
import {
  type BackendPreference,
  type GridTabModel,
  InferenceError,
  loadModel,
} from '@gridtab/client/inference';

export type ToWorker =
  | { type: 'load'; name: string; coordinator: string; alias: string; backend: BackendPreference }
  | { type: 'classify'; id: number; image: ImageData; invert: boolean };

export type FromWorker =
  | { type: 'version'; version: string; backend: string }
  | { type: 'result'; id: number; result: Awaited<ReturnType<GridTabModel['classify']>> }
  | { type: 'error'; id?: number; message: string };

const post = (msg: FromWorker) => postMessage(msg);
const errorText = (e: unknown) => (e instanceof InferenceError ? `${e.code}: ${e.message}` : String(e));
let model: GridTabModel | null = null;

addEventListener('message', async (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  try {
    if (msg.type === 'load') {
      model = await loadModel(msg.name, {
        coordinator: msg.coordinator,
        alias: msg.alias,
        backend: msg.backend,
      });
      const m = model;
      m.onUpdate(() => post({ type: 'version', version: m.version, backend: m.backend }));
      m.onError((e) => post({ type: 'error', message: errorText(e) }));
      post({ type: 'version', version: m.version, backend: m.backend });
    } else if (msg.type === 'classify') {
      if (!model) throw new Error('the model is not loaded yet');
      post({ type: 'result', id: msg.id, result: await model.classify(msg.image, { invert: msg.invert }) });
    }
  } catch (e) {
    post({ type: 'error', id: msg.type === 'classify' ? msg.id : undefined, message: errorText(e) });
  }
});
