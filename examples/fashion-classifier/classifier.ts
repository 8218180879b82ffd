/**
 * What the page needs from a model, on the main thread (the SDK directly) or in a worker (the
 * same SDK behind postMessage), so the page code does not care where inference runs.
 */
import { type BackendPreference, type Classification, loadModel } from '@gridtab/client/inference';
import type { FromWorker, ToWorker } from './worker.ts';

export interface Classifier {
  version: string;
  backend: string;
  classify(input: ImageData | HTMLCanvasElement, invert: boolean): Promise<Classification>;
  /** Called after a promotion swapped the model. */
  onUpdate(cb: () => void): void;
  /** Called when a promoted version was refused (the old one keeps serving). */
  onError(cb: (message: string) => void): void;
}

export interface ClassifierOptions {
  name: string;
  coordinator: string;
  alias: string;
  backend: BackendPreference;
}

export async function mainThreadClassifier(o: ClassifierOptions): Promise<Classifier> {
  const model = await loadModel(o.name, { coordinator: o.coordinator, alias: o.alias, backend: o.backend });
  return {
    get version() {
      return model.version;
    },
    backend: model.backend,
    classify: (input, invert) => model.classify(input, { invert }),
    onUpdate: (cb) => void model.onUpdate(cb),
    onError: (cb) => void model.onError((e) => cb(`${e.code}: ${e.message}`)),
  };
}

export function workerClassifier(o: ClassifierOptions): Promise<Classifier> {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const send = (msg: ToWorker) => worker.postMessage(msg);
  const pending = new Map<number, { resolve: (c: Classification) => void; reject: (e: Error) => void }>();
  const updates: (() => void)[] = [];
  const errors: ((m: string) => void)[] = [];
  let nextId = 0;
  return new Promise((resolve, reject) => {
    const self: Classifier = {
      version: '',
      backend: '',
      classify(input, invert) {
        const image =
          input instanceof ImageData
            ? input
            : input.getContext('2d')!.getImageData(0, 0, input.width, input.height);
        const id = nextId++;
        return new Promise((res, rej) => {
          pending.set(id, { resolve: res, reject: rej });
          send({ type: 'classify', id, image, invert });
        });
      },
      onUpdate: (cb) => void updates.push(cb),
      onError: (cb) => void errors.push(cb),
    };
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
      const msg = event.data;
      if (msg.type === 'version') {
        const first = self.version === '';
        self.version = msg.version;
        self.backend = msg.backend;
        if (first) resolve(self);
        else for (const cb of updates) cb();
      } else if (msg.type === 'result') {
        pending.get(msg.id)?.resolve(msg.result);
        pending.delete(msg.id);
      } else if (msg.id !== undefined) {
        pending.get(msg.id)?.reject(new Error(msg.message));
        pending.delete(msg.id);
      } else if (self.version === '') reject(new Error(msg.message));
      else for (const cb of errors) cb(msg.message);
    });
    send({ type: 'load', name: o.name, coordinator: o.coordinator, alias: o.alias, backend: o.backend });
  });
}
