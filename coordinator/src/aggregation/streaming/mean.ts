/**
 * Streaming weighted mean (the `mean` rule): a float64 running sum of numSamples * delta in a
 * shared WebAssembly memory, folded by the pool's workers (each its own parameter range, SIMD),
 * and finished in place as base + sum / total, the expression weighted-mean.ts uses, so the
 * result is bit-identical to the batch rule on the same updates in the same order.
 *
 * The path of an update: fold() copies it, a piece at a time, into a small ring of pieces per
 * worker (each piece one update's values over part of that worker's range), and each worker
 * folds every piece as soon as it is published, while it is still in the cache. Earlier, whole
 * updates were staged into model-sized slots and folded in batches: every value then crossed
 * memory three times (read, written to a slot that left the cache, read back), and the mean ran
 * at 20-28% of a memory copy (docs/SCALING.md); the ring keeps the copy and the fold in cache.
 *
 * The ring's handshake is in shared memory (Atomics), not in messages: per worker a head (pieces
 * published) and a tail (pieces folded), and a parked flag. A worker drains its ring until it is
 * empty, waits a moment for more, then parks and goes back to its message loop (the pool serves
 * other rounds too); the event loop wakes a parked worker with one message, and waits for space
 * with Atomics.waitAsync, never blocking. Consecutive pieces over the same coordinates (small
 * models, or a worker behind) are folded together, up to 8 in one pass over the sum.
 *
 * Memory, all bounded and fixed at construction:
 * - the sum: 8 bytes a parameter (twice the model);
 * - per worker, `slots` ring pieces of at most `pieceValues` values (default 8 x 512 KiB);
 * - at most `queue` updates waiting for the ring, held by reference (default: as many as fit in
 *   64 MiB, 2 to 16). An update that arrives when the queue is full is written to a temp file in
 *   `dir` at once (synchronously: the intake pays for the burst it sends) and read back into the
 *   ring in its turn, so a burst costs disk, never memory;
 * - finish() returns a new array (the model once more), made through the rings in pieces.
 * partial() gives the running sum itself, which another process can send to the job's owner:
 * combinePartials adds them, and finishPartial makes the mean (issue 17 part 3).
 */
import { closeSync, mkdtempSync, openSync, read, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { waitChange } from '../../atomics.ts';
import type { WeightedUpdate } from '../aggregator.ts';
import { checkFinish, checkFold, type RoundAccumulator } from './accumulator.ts';
import { foldModuleBytes, MAX_BATCH, pagesFor } from './fold-wasm.ts';
import type { AggregationPool } from './pool.ts';

/** A weighted partial sum: sum of numSamples * delta over `count` updates of `totalSamples`. */
export interface PartialSum {
  sum: Float64Array;
  totalSamples: number;
  count: number;
}

export interface MeanOptions {
  /** Ring pieces per worker (default 8). */
  slots?: number;
  /** Values a ring piece holds at most (default 128 Ki: 512 KiB, measured best of 16-256 Ki). */
  pieceValues?: number;
  /** Updates held in memory while the rings are full (default: as fit in 64 MiB, 2 to 16). */
  queue?: number;
  /**
   * Updates folded in one pass over the sum, at most (default: half the ring for a sum of over
   * 32 MiB, 4M parameters, else 1; at most 8).
   */
  group?: number;
  /** Folder for the temp file of updates past the queue (default: the OS temp directory). */
  dir?: string;
}

const MiB64 = 64 << 20;
/** A float64 sum bigger than this is taken to be out of the cache (see `group`). */
const GROUP_SUM_BYTES = 32 << 20;
/** Int32 fields of a worker's ring control block (16 ints apart, a cache line each). */
const HEAD = 0;
const TAIL = 1;
const PARKED = 2;
/** The tail the event loop waits for: the worker notifies only once it gets there. */
const WANT = 3;
const CONTROL = 16;
/** How long to wait for ring space before looking at failures again (ms). */
const SPACE_POLL_MS = 100;
/** The longest the fold intake holds the event loop before letting it turn (ms). */
const TURN_MS = 4;

/** An update waiting for the ring: in memory (the caller's array) or at `at` in the spill file. */
interface Waiting {
  delta: Float32Array | null;
  at: number;
  weight: number;
  staged: () => void;
}

let nextId = 0;

export class StreamingMean implements RoundAccumulator {
  readonly rule = 'mean';
  count = 0;
  /** Updates written to the spill file so far (the queue was full when they came). */
  spilled = 0;
  /** Updates staged in a group of two or more (their pieces folded in one pass). */
  grouped = 0;
  /** The most updates held in memory by reference at once, waiting for the ring. */
  peakQueued = 0;
  /** Ring pieces per worker. */
  readonly slots: number;
  /** Values a ring piece holds. */
  readonly piece: number;
  readonly queue: number;
  /** Waiting updates staged together, their pieces side by side (see run()). */
  readonly group: number;
  private totalSamples = 0;
  private readonly memory: WebAssembly.Memory;
  private readonly id = `mean-${++nextId}`;
  private readonly ranges: [number, number][];
  private readonly ringAt: number;
  private readonly controlAt: number;
  private readonly metaAt: number;
  /** Every worker's control block; worker w's fields at w * CONTROL. */
  private readonly control: Int32Array;
  /** Per worker and ring slot: the sum's byte offset, the value count, the weight. */
  private readonly meta: Float64Array;
  /** Pieces published per worker (the heads, as this side last wrote them). */
  private readonly heads: number[];
  private readonly waiting: Waiting[] = [];
  private queued = 0;
  private copying = false;
  private busySince: number | null = null;
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
    this.ranges = Array.from({ length: pool.size }, (_, w) => pool.range(w, length));
    const widest = Math.max(8, ...this.ranges.map(([lo, hi]) => hi - lo));
    this.piece = Math.max(8, Math.ceil(Math.min(o.pieceValues ?? 1 << 17, widest) / 8) * 8);
    this.slots = Math.max(1, o.slots ?? 8);
    // At least two: a second update waiting is what lets a group form (see run()).
    this.queue = Math.max(1, o.queue ?? Math.min(16, Math.max(2, Math.floor(MiB64 / (length * 4)))));
    // Grouping saves passes over the sum, which cost only when the sum is out of the cache: at
    // 10M parameters pairs took the mean from 35-39% to 51-52% of a copy, while at 1M (an 8 MB
    // sum) the turn a lone update waits for company cost 8% (docs/BENCHMARKS.md, 2026-12-07).
    const groupDefault = length * 8 > GROUP_SUM_BYTES ? this.slots >> 1 : 1;
    this.group = Math.max(1, Math.min(o.group ?? groupDefault, this.slots, MAX_BATCH));
    this.ringAt = Math.ceil((length * 8) / 16) * 16;
    this.controlAt = this.ringAt + pool.size * this.slots * this.piece * 4;
    this.metaAt = this.controlAt + pool.size * CONTROL * 4;
    const pages = pagesFor(this.metaAt + pool.size * this.slots * 3 * 8);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.control = new Int32Array(this.memory.buffer, this.controlAt, pool.size * CONTROL);
    this.meta = new Float64Array(this.memory.buffer, this.metaAt, pool.size * this.slots * 3);
    this.heads = this.ranges.map(() => 0);
    // Workers start parked: the first piece published wakes each.
    for (let w = 0; w < pool.size; w++) this.control[w * CONTROL + PARKED] = 1;
    const module = new WebAssembly.Module(foldModuleBytes(pages));
    this.attached = pool.broadcast({ op: 'attach', id: this.id, memory: this.memory, module });
    this.attached.catch((e) => this.fail(e));
  }

  /** The rings and the queue (the sum is twice the model; the result once more). */
  get boundedBytes(): number {
    return this.pool.size * this.slots * this.piece * 4 + this.queue * this.length * 4;
  }

  private ringView(w: number, slot: number, count: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.ringByte(w, slot), count);
  }

  private ringByte(w: number, slot: number): number {
    return this.ringAt + (w * this.slots + slot) * this.piece * 4;
  }

  /**
   * Resolves once the update is staged (all of it in the rings, or written to the spill file):
   * the caller may reuse its array then. A fold that fails in a worker fails finish(), not this.
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
      const now = this.waiting.length === 0 && !this.copying;
      if (!now && this.queued >= this.queue) {
        this.spillOut(entry);
        staged();
      } else {
        this.queued++;
        this.peakQueued = Math.max(this.peakQueued, this.queued);
      }
      this.waiting.push(entry);
      if (!this.copying) void this.run();
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

  /**
   * Puts waiting updates into the rings, in order, up to `group` at a time: the pieces of a
   * group's updates over the same coordinates are published side by side, so a worker folds them
   * in one pass over the sum (for a model whose float64 sum is out of cache, that pass is most of
   * the memory traffic: 8 bytes read and 8 written per parameter, against 4 read per update).
   */
  private async run(): Promise<void> {
    this.copying = true;
    while (this.waiting.length > 0) {
      // An intake that awaits each fold runs in microtasks while the rings have room: without
      // this, the loop would not turn until the round's last update (a 200 ms stall, measured).
      if (this.busyMs() > TURN_MS) await yieldToLoop();
      // An update too big to stage at once waits one turn of the loop for others to join its
      // group (updates that arrive together, or an intake that keeps two in flight).
      else if (this.waiting.length < this.group && !this.fitsAll(this.waiting)) await yieldToLoop();
      const group = this.waiting.splice(0, this.group);
      if (group.length > 1) this.grouped += group.length;
      try {
        // Staged at once when the rings have room for all of it (small models, workers ahead),
        // so the callers' arrays are free when fold() returns; else a piece at a time.
        if (!this.failure && !this.fitsAll(group)) await this.stage(group, true);
        else if (!this.failure) this.stage(group, false).catch((e) => this.fail(e)); // done on return
      } catch (e) {
        this.fail(e as Error);
      }
      for (const entry of group) {
        if (entry.delta) this.queued--;
        else if (this.spill && --this.spill.unread === 0) this.spill.end = 0; // the file starts over
        entry.staged();
      }
    }
    this.copying = false;
    this.checkIdle();
  }

  /**
   * Publishes the group's pieces, the workers' ranges interleaved so that no worker waits on
   * another's and, within a range, each update's piece beside the others' over the same
   * coordinates; waits (without blocking the loop) while a ring is full, and lets the loop turn
   * every TURN_MS. With `mayYield` false (the group fits the rings now) it never awaits, so it is
   * done when it returns.
   */
  private async stage(group: Waiting[], mayYield: boolean): Promise<void> {
    const { piece, ranges } = this;
    const n = group.length;
    for (let j = 0; ; j++) {
      let any = false;
      for (let w = 0; w < ranges.length; w++) {
        const [lo, hi] = ranges[w];
        const from = lo + j * piece;
        if (from >= hi) continue;
        any = true;
        const count = Math.min(piece, hi - from);
        if (this.heads[w] - Atomics.load(this.control, w * CONTROL + TAIL) > this.slots - n)
          await this.space(w, n);
        else if (mayYield && this.busyMs() > TURN_MS) await yieldToLoop(); // a big update, the ring keeping up
        for (let e = 0; e < n; e++) {
          const entry = group[e];
          const slot = (this.heads[w] + e) % this.slots;
          if (entry.delta) this.ringView(w, slot, count).set(entry.delta.subarray(from, from + count));
          else await this.readBack(entry.at + from * 4, this.ringByte(w, slot), count * 4);
          const m = (w * this.slots + slot) * 3;
          this.meta[m] = from * 8;
          this.meta[m + 1] = count;
          this.meta[m + 2] = entry.weight;
        }
        this.publish(w, n);
      }
      if (!any) return;
    }
  }

  /** How long the event loop has been in this accumulator's work without turning. */
  private busyMs(): number {
    if (this.busySince === null) {
      this.busySince = performance.now();
      // Runs at the loop's next turn, after whatever holds it now.
      setImmediate(() => {
        this.busySince = null;
      });
    }
    return performance.now() - this.busySince;
  }

  /** True when every worker's ring has room now for all the pieces of the first `group` updates. */
  private fitsAll(entries: Waiting[]): boolean {
    const n = Math.min(entries.length, this.group);
    if (n === 0 || entries.slice(0, n).some((e) => !e.delta)) return false;
    return this.ranges.every(
      ([lo, hi], w) =>
        n * Math.ceil((hi - lo) / this.piece) <=
        this.slots - (this.heads[w] - Atomics.load(this.control, w * CONTROL + TAIL)),
    );
  }

  /** Resolves when worker w's ring has `n` free slots; throws when a fold failed. */
  private async space(w: number, n: number): Promise<void> {
    // Woken once half the ring is free, not for every piece: a wake is a task on this loop.
    const head = this.heads[w];
    const target = head - this.slots + n;
    await this.tailReaches(w, target, Math.max(target, head - (this.slots >> 1)));
    if (this.failure) throw this.failure;
  }

  /**
   * Resolves once worker w has folded up to piece `target` (its tail), or a fold failed. The
   * worker notifies only when its tail passes `want` (at least `target`), so the loop is not
   * woken per piece; the wait also times out now and then, to see a failure.
   */
  private async tailReaches(w: number, target: number, want: number): Promise<void> {
    const c = w * CONTROL;
    for (;;) {
      if (this.failure) return;
      const tail = Atomics.load(this.control, c + TAIL);
      if (tail >= target) return;
      Atomics.store(this.control, c + WANT, want);
      await waitChange(this.control, c + TAIL, tail, SPACE_POLL_MS);
    }
  }

  /** Makes the next `n` pieces of worker w's ring visible to it at once (their meta is written). */
  private publish(w: number, n: number): void {
    const c = w * CONTROL;
    this.heads[w] += n;
    Atomics.store(this.control, c + HEAD, this.heads[w]);
    Atomics.notify(this.control, c + HEAD);
    // A parked worker is back in its message loop: one message sends it to the ring again.
    if (Atomics.compareExchange(this.control, c + PARKED, 1, 0) === 1) {
      this.pool
        .call(w, {
          op: 'fold',
          id: this.id,
          control: this.controlAt + c * 4,
          meta: this.metaAt + w * this.slots * 3 * 8,
          ring: this.ringByte(w, 0),
          slots: this.slots,
          piece: this.piece,
        })
        .catch((e) => this.fail(e));
    }
  }

  private readBack(at: number, into: number, bytes: number): Promise<void> {
    const spill = this.spill!;
    const view = new Uint8Array(this.memory.buffer, into, bytes);
    return new Promise((resolve, reject) => {
      const next = (done: number) => {
        if (done === bytes) return resolve();
        read(spill.fd, view, done, bytes - done, at + done, (e, n) => {
          if (e || n === 0) reject(e ?? new Error('mean: spill file ended early'));
          else next(done + n);
        });
      };
      next(0);
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
  }

  private checkIdle(): void {
    if (this.waiting.length > 0 || this.copying) return;
    const idle = this.idle;
    this.idle = [];
    for (const resolve of idle) resolve();
  }

  /** Resolves when every update folded so far is in the sum (or a fold failed). */
  private async settled(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.idle.push(resolve);
      this.checkIdle();
    });
    for (let w = 0; w < this.heads.length; w++) await this.tailReaches(w, this.heads[w], this.heads[w]);
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
   * base + sum / total, through the rings (idle once every fold is in): the event loop copies
   * the base in and the result out a ring at a time, yielding between; the workers do the
   * arithmetic, in place.
   */
  async finish(base: Float32Array): Promise<Float32Array> {
    checkFinish(this.rule, this.length, this.count, base);
    await this.settled();
    if (this.failure) throw this.failure;
    const out = new Float32Array(this.length);
    const total = this.totalSamples;
    const capacity = this.slots * this.piece;
    await Promise.all(
      this.ranges.map(async ([lo, hi], w) => {
        for (let from = lo; from < hi; from += capacity) {
          const count = Math.min(capacity, hi - from);
          const view = this.ringView(w, 0, count);
          view.set(base.subarray(from, from + count));
          await this.pool.call(w, {
            op: 'meanFinish',
            id: this.id,
            acc: from * 8,
            base: this.ringByte(w, 0),
            count,
            total,
          });
          out.set(view, from);
          await yieldToLoop();
        }
      }),
    );
    return out;
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
