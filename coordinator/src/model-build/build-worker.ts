/**
 * A worker thread of the build pool (build-pool.ts): runs one build task at a time and posts
 * back its result, or the error's code and message. Weights go back transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { GridTabError } from '@gridtab/shared';
import { type BuildTask, runBuildTask } from './build-tasks.ts';

export type WorkerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; code: string | null; message: string };

parentPort!.on('message', async ({ id, task }: { id: number; task: BuildTask }) => {
  try {
    const result = await runBuildTask(task);
    const weights = (result as { weights?: Float32Array }).weights;
    parentPort!.postMessage(
      { id, ok: true, result } satisfies WorkerReply,
      weights ? [weights.buffer as ArrayBuffer] : [],
    );
  } catch (e) {
    const code = e instanceof GridTabError ? e.code : null;
    parentPort!.postMessage({ id, ok: false, code, message: (e as Error).message } satisfies WorkerReply);
  }
});
