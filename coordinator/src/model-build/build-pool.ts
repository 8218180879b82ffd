/**
 * A small pool of worker threads that build models (model-builder.ts says why). Each worker
 * runs one task at a time; tasks wait in a bounded queue, and past it the pool answers BUSY at
 * once (HTTP 503 with Retry-After) instead of letting a burst of specs pile up memory. A task
 * that runs past the timeout, or a worker that dies (out of heap: `resourceLimits`), ends that
 * worker and refuses the task; the next task gets a fresh one. Workers idle for a while are
 * ended too: TF.js's wasm memory only grows, so a worker that built a large model keeps it.
 *
 * piscina and tinypool are not installed here (vitest 4 no longer ships tinypool); this is the
 * hundred lines of them GridTab needs.
 */
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, type ErrorCode, GridTabError } from '@gridtab/shared';
import type { BuildResults, BuildTask } from './build-tasks.ts';
import type { WorkerReply } from './build-worker.ts';
import type { ModelBuilder } from './model-builder.ts';

export interface BuildPoolOptions {
  /** Worker threads at most (each holds a TF.js). */
  workers: number;
  /** Tasks that may wait for a worker; past it, BUSY. */
  queue: number;
  /** A task (worker start included) running longer is refused and its worker ended. */
  timeoutMs: number;
  /** V8 heap of a worker; TF.js's wasm memory is not part of it (the spec check bounds that). */
  heapMb: number;
  /** An idle worker is ended after this long. */
  idleMs?: number;
}

interface Pending {
  task: BuildTask;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  current: (Pending & { id: number; timer: NodeJS.Timeout }) | null;
  idleTimer: NodeJS.Timeout | null;
}

// A plain .mjs entry that loads the TypeScript worker through tsx (it says why).
const WORKER = new URL('./build-worker-entry.mjs', import.meta.url);

export class BuildPool implements ModelBuilder {
  private readonly slots = new Set<Slot>();
  private readonly waiting: Pending[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: BuildPoolOptions) {}

  run<K extends BuildTask['kind']>(task: Extract<BuildTask, { kind: K }>): Promise<BuildResults[K]> {
    if (this.closed) return Promise.reject(new GridTabError('INTERNAL', 'the build pool is closed'));
    const free = [...this.slots].some((s) => !s.current) || this.slots.size < this.options.workers;
    if (!free && this.waiting.length >= this.options.queue)
      return Promise.reject(
        new GridTabError(
          'BUSY',
          `the coordinator is building ${this.slots.size + this.waiting.length} other models; retry in a few seconds`,
        ),
      );
    return new Promise((resolve, reject) => {
      this.waiting.push({ task, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /** Tasks running and waiting (for metrics and tests). */
  get load(): { running: number; waiting: number; workers: number } {
    const running = [...this.slots].filter((s) => s.current).length;
    return { running, waiting: this.waiting.length, workers: this.slots.size };
  }

  private pump(): void {
    while (this.waiting.length) {
      const slot = [...this.slots].find((s) => !s.current) ?? this.spawn();
      if (!slot) return;
      this.dispatch(slot, this.waiting.shift()!);
    }
  }

  private spawn(): Slot | null {
    if (this.slots.size >= this.options.workers) return null;
    const worker = new Worker(WORKER, {
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb },
      stdout: false,
    });
    const slot: Slot = { worker, current: null, idleTimer: null };
    worker.on('message', (reply: WorkerReply) => {
      const job = slot.current;
      if (!job || reply.id !== job.id) return;
      this.settle(slot);
      if (reply.ok) job.resolve(reply.result);
      else job.reject(errorOf(reply.code, reply.message));
      this.idle(slot);
    });
    const died = (why: string) => {
      const job = slot.current;
      this.discard(slot);
      job?.reject(new GridTabError('INVALID_MODEL_SPEC', `building the model failed: ${why}`));
      this.pump();
    };
    worker.on('error', (e: Error & { code?: string }) =>
      died(
        e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `it needs more than ${this.options.heapMb} MB` : e.message,
      ),
    );
    worker.on('exit', (code) => {
      if (this.slots.has(slot)) died(`the build thread exited (${code})`);
    });
    this.slots.add(slot);
    return slot;
  }

  private dispatch(slot: Slot, pending: Pending): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    slot.worker.ref();
    const id = this.nextId++;
    const timer = setTimeout(() => {
      const job = slot.current;
      this.discard(slot);
      job?.reject(
        new GridTabError(
          'INVALID_MODEL_SPEC',
          `building the model took longer than ${Math.round(this.options.timeoutMs / 1000)} s`,
        ),
      );
      this.pump();
    }, this.options.timeoutMs);
    slot.current = { ...pending, id, timer };
    const transfer = pending.task.kind === 'import' ? [pending.task.weightData] : [];
    slot.worker.postMessage({ id, task: pending.task }, transfer);
  }

  private settle(slot: Slot): void {
    if (slot.current) clearTimeout(slot.current.timer);
    slot.current = null;
  }

  /** A free worker takes the next task, or waits (not keeping the process alive) until idleMs. */
  private idle(slot: Slot): void {
    this.pump();
    if (slot.current || !this.slots.has(slot)) return;
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => this.discard(slot), this.options.idleMs ?? 60_000);
    slot.idleTimer.unref();
  }

  private discard(slot: Slot): void {
    this.settle(slot);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    this.slots.delete(slot);
    void slot.worker.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.waiting.splice(0)) p.reject(new GridTabError('INTERNAL', 'the build pool closed'));
    const slots = [...this.slots];
    for (const slot of slots) {
      slot.current?.reject(new GridTabError('INTERNAL', 'the build pool closed'));
      this.discard(slot);
    }
  }
}

function errorOf(code: string | null, message: string): Error {
  return code && code in ERROR_CODES ? new GridTabError(code as ErrorCode, message) : new Error(message);
}
