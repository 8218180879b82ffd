/**
 * The evaluation thread (evaluator-thread.ts): a TfEvaluator whose blob store is the
 * coordinator's, reached by message, so test sets and built models stay here between versions
 * and only the weights and, once per dataset version, its test shards cross the thread boundary.
 */
import { parentPort } from 'node:worker_threads';
import type { BlobStore } from '../storage/blob-store.ts';
import { lowerThreadPriority } from '../thread-priority.ts';
import { TfEvaluator } from './evaluator.ts';
import { EVALUATION_NICE, type FromThread, type ToThread } from './evaluator-thread.ts';

lowerThreadPriority(EVALUATION_NICE);

const port = parentPort!;
const post = (m: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const waiting = new Map<number, (bytes: Uint8Array | null) => void>();
let nextBlob = 0;

const blobs: Pick<BlobStore, 'get'> = {
  get: (hash) =>
    new Promise((resolve) => {
      const id = nextBlob++;
      waiting.set(id, resolve);
      post({ kind: 'blob', id, hash });
    }),
};
const evaluator = new TfEvaluator(blobs);

port.on('message', async (m: ToThread) => {
  if (m.kind === 'blob') {
    waiting.get(m.id)?.(m.bytes);
    waiting.delete(m.id);
    return;
  }
  try {
    const metrics = await evaluator.evaluate(m.spec, m.weights, m.dataset, m.loss);
    post({ kind: 'done', id: m.id, metrics });
  } catch (e) {
    post({ kind: 'failed', id: m.id, message: (e as Error).message });
  }
});
