/**
 * Streaming weighted mean (the `mean` rule): a float64 running sum of numSamples * delta in a
 * shared WebAssembly memory, folded by the pool's workers (each its own parameter range, SIMD),
 * and finished in place as base + sum / total, the expression weighted-mean.ts uses, so the
 * result is bit-identical to the batch rule on the same updates in the same order.
 *
 * The path of an update: fold() copies it into a free staging slot of the shared memory (the one
 * copy of its bytes) and resolves; the workers then fold every staged update in one pass over
 * the sum (fold-wasm.ts: up to 8 an instruction stream), one message per worker for the whole
 * batch. While a batch folds, the next updates are copied into the other slots, so the batches
 * grow by themselves when the workers are the slower side.
 *
 * Memory, all bounded and fixed at construction:
 * - the sum: 8 bytes a parameter (twice the model);
 * - `slots` staging slots of one update each (default: as many as fit in 16 MiB, 2 to 16: at
 *   load 8-15, a 1M model folded at 50-119% of a copy with 2-4 slots and 13-49% with 8-16, whose
 *   64 MiB leave the cache between the copy and the fold);
 * - at most `queue` updates waiting for a slot, held by reference (default: as many as fit in
 *   64 MiB, 1 to 16). An update that arrives when the queue is full is written to a temp file in
 *   `dir` at once (synchronously: the intake pays for the burst it sends) and read back into a
 *   slot when one frees, so a burst costs disk, never memory;
 * - finish() returns a new array (the model once more), filled in pieces.
 * partial() gives the running sum itself, which another process can send to the job's owner:
 * combinePartials adds them, and finishPartial makes the mean (issue 17 part 3).
 */
import { closeSync, mkdtempSync, openSync, read, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WeightedUpdate } from '../aggregator.ts';
import { checkFinish, checkFold, type RoundAccumulator } from './accumulator.ts';
import { foldModuleBytes, pagesFor } from './fold-wasm.ts';
import { copyInPieces, unsharedCopy } from './pieces.ts';
import type { AggregationPool } from './pool.ts';

/** A weighted partial sum: sum of numSamples * delta over `count` updates of `totalSamples`. */
export interface PartialSum {
  sum: Float64Array;
  totalSamples: number;
  count: number;
}

export interface MeanOptions {
  /** Staging slots, each one update (default: as many as fit in `stagingBytes`, 2 to 16). */
  slots?: number;
  /** Memory for the staging slots when `slots` is not given (default 16 MiB). */
  stagingBytes?: number;
  /** Updates held in memory while every slot is taken (default: as fit in 64 MiB, 1 to 16). */
  queue?: number;
  /** Folder for the temp file of updates past the queue (default: the OS temp directory). */
  dir?: string;
}

/** Values of an update copied into a slot (already faulted in) before the event loop yields. */
const FOLD_PIECE = 1 << 20;
const MiB64 = 64 << 20;

/** An update waiting for a slot: in memory (the caller's array) or at `at` in the spill file. */
interface Waiting {
  delta: Float32Array | null;
  at: number;
  weight: number;
  staged: () => void;
}

/** An update in a slot, in fold order; `ready` once its bytes are all there. */
interface Staged {
  slot: number;
  weight: number;
  ready: boolean;
}

let nextId = 0;

export class StreamingMean implements RoundAccumulator {
  readonly rule = 'mean';
  count = 0;
  /** Updates written to the spill file so far (the queue was full when they came). */
  spilled = 0;
  /** The most updates held in memory by reference at once, waiting for a slot. */
  peakQueued = 0;
  readonly slots: number;
  readonly queue: number;
  private totalSamples = 0;
  private readonly memory: WebAssembly.Memory;
  private readonly slotBytes: number;
  private readonly id = `mean-${++nextId}`;
  private readonly free: number[];
  private readonly waiting: Waiting[] = [];
  private queued = 0;
  private readonly staged: Staged[] = [];
  private copying = false;
  private batch: Promise<void> | null = null;
  private readonly attached: Promise<unknown>;
  private failure: Error | null = null;
  private idle: (() => void)[] = [];
  private spill: { dir: string; fd: number; end: number; unread: number } | null = null;
  private closed = false;
  private readonly options: MeanOptions;

  constructor(
    private readonly pool: AggregationPool,
    readonly length: number,
    options: MeanOptions | number = {},
  ) {
    const o = typeof options === 'number' ? { slots: options } : options;
    this.options = o;
    this.slotBytes = Math.ceil((length * 4) / 16) * 16;
    const fitting = (bytes: number, lo: number) =>
      Math.min(16, Math.max(lo, Math.floor(bytes / this.slotBytes)));
    this.slots = Math.max(1, o.slots ?? fitting(o.stagingBytes ?? 16 << 20, 2));
    this.queue = Math.max(1, o.queue ?? fitting(MiB64, 1));
    const bytes = this.slotOffset(this.slots);
    const pages = pagesFor(bytes);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const module = new WebAssembly.Module(foldModuleBytes(pages));
    this.attached = pool.broadcast({ op: 'attach', id: this.id, memory: this.memory, module });
    this.attached.catch((e) => this.fail(e));
    this.free = Array.from({ length: this.slots }, (_, s) => this.slots - 1 - s);
  }

  /** Staging slots and the queue (the sum is twice the model; the result once more). */
  get boundedBytes(): number {
    return this.slots * this.slotBytes + this.queue * this.length * 4;
  }

  private slotOffset(slot: number): number {
    return Math.ceil((this.length * 8) / 16) * 16 + slot * this.slotBytes;
  }

  private slotView(slot: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.slotOffset(slot), this.length);
  }

  /**
   * Resolves once the update is staged (copied into a slot, or written to the spill file): the
   * caller may reuse its array then. A fold that fails in a worker fails finish(), not this.
   */
  fold(update: WeightedUpdate): Promise<void> {
    if (this.closed) return Promise.reject(new Error('mean: accumulator is closed'));
    try {
      checkFold(this.rule, this.length, update);
    } catch (e) {
      return Promise.reject(e);
    }
    this.count++;
    this.totalSamples += update.numSamples;
    if (this.failure) return Promise.resolve();
    return new Promise<void>((staged) => {
      const entry: Waiting = { delta: update.delta, at: 0, weight: update.numSamples, staged };
      const now = this.waiting.length === 0 && this.free.length > 0 && !this.copying;
      if (!now && this.queued >= this.queue) {
        this.spillOut(entry);
        staged();
      } else {
        this.queued++;
        this.peakQueued = Math.max(this.peakQueued, this.queued);
      }
      this.waiting.push(entry);
      this.pump();
    });
  }

  /** Writes a waiting update to the spill file, so it no longer holds the caller's array. */
  private spillOut(entry: Waiting): void {
    if (!this.spill) {
      const dir = mkdtempSync(join(this.options.dir ?? tmpdir(), 'gridtab-mean-'));
      this.spill = { dir, fd: openSync(join(dir, 'queue'), 'w+'), end: 0, unread: 0 };
    }
    const delta = entry.delta!;
    const bytes = new Uint8Array(delta.buffer, delta.byteOffset, delta.byteLength);
    for (let done = 0; done < bytes.length; )
      done += writeSync(this.spill.fd, bytes, done, bytes.length - done, this.spill.end + done);
    entry.at = this.spill.end;
    entry.delta = null;
    this.spill.end += bytes.length;
    this.spill.unread++;
    this.spilled++;
  }

  /** Moves waiting updates into free slots, in order, then folds what is staged. */
  private pump(): void {
    while (!this.copying && this.waiting.length > 0 && this.free.length > 0) {
      const entry = this.waiting.shift()!;
      const staged: Staged = { slot: this.free.pop()!, weight: entry.weight, ready: false };
      this.staged.push(staged);
      if (this.failure) {
        staged.ready = true;
        if (entry.delta) this.queued--;
        entry.staged();
      } else if (entry.delta === null) {
        this.readBack(entry.at, staged);
      } else if (entry.delta.length <= FOLD_PIECE) {
        this.slotView(staged.slot).set(entry.delta);
        staged.ready = true;
        this.queued--;
        entry.staged();
      } else {
        // A big update is copied a piece at a time, yielding between pieces; the next ones wait.
        this.copying = true;
        void copyInPieces(entry.delta, this.slotView(staged.slot), FOLD_PIECE).then(() => {
          staged.ready = true;
          this.copying = false;
          this.queued--;
          entry.staged();
          this.pump();
        });
        break;
      }
    }
    this.dispatch();
  }

  private readBack(at: number, staged: Staged): void {
    const spill = this.spill!;
    const into = new Uint8Array(this.memory.buffer, this.slotOffset(staged.slot), this.length * 4);
    const next = (done: number) => {
      if (done === into.length) {
        staged.ready = true;
        // Every spilled update is read back: the file starts over.
        if (--spill.unread === 0) spill.end = 0;
        this.dispatch();
        return;
      }
      read(spill.fd, into, done, into.length - done, at + done, (e, n) => {
        if (e || n === 0) {
          this.fail(e ?? new Error('mean: spill file ended early'));
          staged.ready = true;
          this.dispatch();
        } else next(done + n);
      });
    };
    next(0);
  }

  /** Sends the staged, ready prefix to the workers as one batch, when none is folding. */
  private dispatch(): void {
    if (this.batch) return;
    let k = 0;
    while (k < this.staged.length && this.staged[k].ready) k++;
    if (k === 0) {
      this.checkIdle();
      return;
    }
    const batch = this.staged.splice(0, k);
    this.batch = this.foldBatch(batch)
      .catch((e) => this.fail(e))
      .finally(() => {
        this.batch = null;
        for (const { slot } of batch) this.free.push(slot);
        this.pump();
      });
  }

  private async foldBatch(batch: Staged[]): Promise<void> {
    if (this.failure) return;
    await this.attached;
    const weights = batch.map((s) => s.weight);
    await Promise.all(
      Array.from({ length: this.pool.size }, (_, w) => {
        const [lo, hi] = this.pool.range(w, this.length);
        if (lo === hi) return null;
        return this.pool.call(w, {
          op: 'fold',
          id: this.id,
          acc: lo * 8,
          deltas: batch.map((s) => this.slotOffset(s.slot) + lo * 4),
          weights,
          count: hi - lo,
        });
      }),
    );
  }

  private fail(e: Error): void {
    this.failure ??= e;
  }

  private checkIdle(): void {
    if (this.waiting.length > 0 || this.staged.length > 0 || this.batch || this.copying) return;
    const idle = this.idle;
    this.idle = [];
    for (const resolve of idle) resolve();
  }

  /** Resolves when every update folded so far is in the sum (or failed). */
  private settled(): Promise<void> {
    return new Promise((resolve) => {
      this.idle.push(resolve);
      this.checkIdle();
    });
  }

  /** The running weighted sum so far (a copy), for combining across processes. */
  async partial(): Promise<PartialSum> {
    await this.settled();
    if (this.failure) throw this.failure;
    const sum = new Float64Array(this.length);
    sum.set(new Float64Array(this.memory.buffer, 0, this.length));
    return { sum, totalSamples: this.totalSamples, count: this.count };
  }

  /**
   * base + sum / total. The event loop only copies, a piece at a time (the base into slot 0,
   * the result out of it); the workers do the arithmetic.
   */
  async finish(base: Float32Array): Promise<Float32Array> {
    checkFinish(this.rule, this.length, this.count, base);
    await this.settled();
    if (this.failure) throw this.failure;
    // Every slot is free now: slot 0 takes the base and becomes the result in place.
    const offset = this.slotOffset(0);
    const view = this.slotView(0);
    await copyInPieces(base, view);
    const total = this.totalSamples;
    await Promise.all(
      Array.from({ length: this.pool.size }, (_, w) => {
        const [lo, hi] = this.pool.range(w, this.length);
        if (lo === hi) return null;
        return this.pool.call(w, {
          op: 'meanFinish',
          id: this.id,
          acc: lo * 8,
          base: offset + lo * 4,
          count: hi - lo,
          total,
        });
      }),
    );
    return unsharedCopy(view);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settled();
    if (this.spill) {
      closeSync(this.spill.fd);
      rmSync(this.spill.dir, { recursive: true, force: true });
      this.spill = null;
    }
    await this.pool.broadcast({ op: 'detach', id: this.id });
  }
}

/** Adds partial sums (in the order given: float64 addition is not associative). */
export function combinePartials(parts: PartialSum[]): PartialSum {
  if (parts.length === 0) throw new Error('fedavg: no partial sums to combine');
  const sum = Float64Array.from(parts[0].sum);
  for (const p of parts.slice(1)) {
    if (p.sum.length !== sum.length)
      throw new Error(`fedavg: partial sums of ${p.sum.length} and ${sum.length}`);
    for (let i = 0; i < sum.length; i++) sum[i] += p.sum[i];
  }
  return {
    sum,
    totalSamples: parts.reduce((n, p) => n + p.totalSamples, 0),
    count: parts.reduce((n, p) => n + p.count, 0),
  };
}

/** base + sum / total: the mean a combined partial sum stands for. */
export function finishPartial(base: Float32Array, { sum, totalSamples, count }: PartialSum): Float32Array {
  checkFinish('mean', sum.length, count, base);
  const out = new Float32Array(base.length);
  for (let i = 0; i < out.length; i++) out[i] = base[i] + sum[i] / totalSamples;
  return out;
}
