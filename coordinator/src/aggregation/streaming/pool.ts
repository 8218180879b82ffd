/**
 * A small pool of worker threads for aggregation, so folding updates and closing rounds never
 * run on the event loop. The tree has no pool library (no tinypool or piscina in node_modules)
 * and this needs little of one: a fixed set of workers, each taking messages in order (a port is
 * FIFO, which is what keeps a streaming sum's order defined), and a reply per message.
 *
 * One pool serves every round of a coordinator: pass it in (createCoordinator's dependencies),
 * do not make one per round. The worker is plain JavaScript (fold-worker.mjs) so it loads the
 * same under tsx, vitest and a build, with no TypeScript loader in the thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export type PoolMessage = { op: string } & Record<string, unknown>;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** The cores less one for the event loop, at least 1, at most 8. */
export function defaultPoolSize(): number {
  return Math.min(8, Math.max(1, availableParallelism() - 1));
}

export class AggregationPool {
  private readonly workers: Worker[];
  private readonly pending: Map<number, Pending>[];
  private seq = 0;
  private closed = false;

  constructor(threads = defaultPoolSize()) {
    this.workers = [];
    this.pending = [];
    for (let w = 0; w < threads; w++) {
      const worker = new Worker(new URL('./fold-worker.mjs', import.meta.url));
      const pending = new Map<number, Pending>();
      worker.on('message', (reply: { seq: number; result?: unknown; error?: string }) => {
        const p = pending.get(reply.seq);
        if (!p) return;
        pending.delete(reply.seq);
        if (pending.size === 0) worker.unref();
        if (reply.error !== undefined) p.reject(new Error(`aggregation worker: ${reply.error}`));
        else p.resolve(reply.result);
      });
      worker.on('error', (e) => {
        for (const p of pending.values()) p.reject(e);
        pending.clear();
      });
      // Idle workers must not keep the process alive; busy ones must (see call()).
      worker.unref();
      this.workers.push(worker);
      this.pending.push(pending);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sends `message` to worker `w`; resolves with its reply. Messages to one worker run in order. */
  call(w: number, message: PoolMessage): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('aggregation pool is closed'));
    const seq = ++this.seq;
    const worker = this.workers[w];
    return new Promise((resolve, reject) => {
      if (this.pending[w].size === 0) worker.ref();
      this.pending[w].set(seq, { resolve, reject });
      worker.postMessage({ ...message, seq });
    });
  }

  /** The same message to every worker (attach, detach). */
  broadcast(message: PoolMessage): Promise<unknown[]> {
    return Promise.all(this.workers.map((_, w) => this.call(w, message)));
  }

  /** [lo, hi) of `n` coordinates for worker `w`: contiguous ranges, multiples of 8 but the last. */
  range(w: number, n: number): [number, number] {
    const per = Math.ceil(n / this.size / 8) * 8;
    return [Math.min(n, w * per), Math.min(n, (w + 1) * per)];
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
