/**
 * Test-set evaluation on a thread of its own. On the event loop, each version's forward pass
 * over the test set (10k Fashion-MNIST rows: about a second of wasm on this machine) shared the
 * loop with serving that version's weights to every tab, which fetch them the moment the version
 * is announced: bench:train found the weights wait the largest gap in a tab's unit after
 * training. Here the loop only copies the weights over; the thread keeps TfEvaluator's caches
 * (built models, test sets) and asks for a test shard's bytes once per dataset version.
 *
 * One thread, started on first use and ended by close(). If it dies, the evaluations in flight
 * fail (the version keeps null metrics, as any failed evaluation does) and the next starts a new
 * thread.
 */
import { Worker } from 'node:worker_threads';
import type { RegressionLoss, VersionMetrics } from '@gridtab/shared';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord } from '../storage/store.ts';
import type { Evaluator } from './evaluator.ts';

export type ToThread =
  | {
      kind: 'evaluate';
      id: number;
      spec: Record<string, unknown>;
      weights: Float32Array;
      dataset: DatasetRecord;
      loss: RegressionLoss;
    }
  | { kind: 'blob'; id: number; bytes: Uint8Array | null };

export type FromThread =
  | { kind: 'done'; id: number; metrics: VersionMetrics }
  | { kind: 'failed'; id: number; message: string }
  | { kind: 'blob'; id: number; hash: string };

/**
 * The thread's nice value (Linux; thread-priority.ts). Evaluation is off every path a contributor
 * waits on (metrics land while the next round trains), so it takes the cores that the training
 * tabs, the event loop and the uploads leave: at the process's priority it started with every
 * commit and competed with the next round's weight downloads (bench:train, three tabs on two
 * cores). A job with a stopping target waits for it at its next commit, a round later.
 */
export const EVALUATION_NICE = 10;

const ENTRY = new URL('./evaluate-worker-entry.mjs', import.meta.url);

interface Pending {
  resolve: (m: VersionMetrics) => void;
  reject: (e: Error) => void;
}

export class EvaluatorThread implements Evaluator {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(private readonly blobs: Pick<BlobStore, 'get'>) {}

  evaluate(
    spec: Record<string, unknown>,
    weights: Float32Array,
    dataset: DatasetRecord,
    loss: RegressionLoss = 'mse',
  ): Promise<VersionMetrics> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    // A copy moves to the thread: the caller keeps its weights (they are the version just made).
    const copy = weights.slice();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // an evaluation in flight keeps the process up, an idle thread does not
      worker.postMessage({ kind: 'evaluate', id, spec, weights: copy, dataset, loss } satisfies ToThread, [
        copy.buffer,
      ]);
    });
  }

  /** Evaluations in flight (for tests and telemetry). */
  get inFlight(): number {
    return this.pending.size;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.fail(new Error('the evaluation thread was closed'));
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(ENTRY, { execArgv: [], stdout: false });
    worker.unref();
    worker.on('message', (m: FromThread) => {
      if (m.kind === 'blob') {
        this.blobs.get(m.hash).then(
          (bytes) => worker.postMessage({ kind: 'blob', id: m.id, bytes } satisfies ToThread),
          () => worker.postMessage({ kind: 'blob', id: m.id, bytes: null } satisfies ToThread),
        );
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.kind === 'done') p.resolve(m.metrics);
      else p.reject(new Error(m.message));
    });
    const died = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.fail(new Error(`the evaluation thread ended: ${why}`));
    };
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private fail(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
