/**
 * Streaming weighted mean (the `mean` rule): a float64 running sum of numSamples * delta in a shared WebAssembly memory,
 * folded by the pool's workers (each its own parameter range, SIMD), and finished in place as
 * base + sum / total, the expression fedavg.ts uses, so the result is bit-identical to the batch
 * rule on the same updates in the same order.
 *
 * Memory: the sum (8 bytes a parameter) plus `slots` staging copies of an update (4 bytes a
 * parameter each) that the workers read from; a fold waits for a free slot (back-pressure).
 * partial() gives the running sum itself, which another process can send to the job's owner:
 * combinePartials adds them, and finishPartial makes the mean (issue 17 part 3).
 */
import type { WeightedUpdate } from '../aggregator.ts';
import { checkFinish, checkFold, type RoundAccumulator } from './accumulator.ts';
import { foldModuleBytes, pagesFor } from './fold-wasm.ts';
import type { AggregationPool } from './pool.ts';

/** A weighted partial sum: sum of numSamples * delta over `count` updates of `totalSamples`. */
export interface PartialSum {
  sum: Float64Array;
  totalSamples: number;
  count: number;
}

let nextId = 0;

export class StreamingMean implements RoundAccumulator {
  readonly rule = 'mean';
  count = 0;
  private totalSamples = 0;
  private readonly memory: WebAssembly.Memory;
  private readonly slotBytes: number;
  private readonly id = `mean-${++nextId}`;
  private readonly free: number[];
  private readonly waiting: ((slot: number) => void)[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly attached: Promise<unknown>;
  private closed = false;

  constructor(
    private readonly pool: AggregationPool,
    readonly length: number,
    slots = 4,
  ) {
    this.slotBytes = Math.ceil((length * 4) / 16) * 16;
    const bytes = length * 8 + slots * this.slotBytes;
    const pages = pagesFor(bytes);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const module = new WebAssembly.Module(foldModuleBytes(pages));
    this.attached = pool.broadcast({ op: 'attach', id: this.id, memory: this.memory, module });
    this.free = Array.from({ length: slots }, (_, s) => s);
  }

  private slotOffset(slot: number): number {
    return this.length * 8 + slot * this.slotBytes;
  }

  fold(update: WeightedUpdate): Promise<void> {
    if (this.closed) return Promise.reject(new Error('fedavg: accumulator is closed'));
    try {
      checkFold(this.rule, this.length, update);
    } catch (e) {
      return Promise.reject(e);
    }
    this.count++;
    this.totalSamples += update.numSamples;
    const done = this.foldInto(update).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
    return done;
  }

  private async foldInto({ delta, numSamples }: WeightedUpdate): Promise<void> {
    await this.attached;
    // FIFO hand-out of slots keeps the dispatch order equal to the fold() call order.
    const slot = this.free.length > 0 && this.waiting.length === 0 ? this.free.pop()! : await this.slot();
    const offset = this.slotOffset(slot);
    new Float32Array(this.memory.buffer, offset, this.length).set(delta);
    try {
      await Promise.all(
        Array.from({ length: this.pool.size }, (_, w) => {
          const [lo, hi] = this.pool.range(w, this.length);
          if (lo === hi) return null;
          return this.pool.call(w, {
            op: 'fold',
            id: this.id,
            acc: lo * 8,
            delta: offset + lo * 4,
            count: hi - lo,
            weight: numSamples,
          });
        }),
      );
    } finally {
      const next = this.waiting.shift();
      if (next) next(slot);
      else this.free.push(slot);
    }
  }

  private slot(): Promise<number> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** The running weighted sum so far (a copy), for combining across processes. */
  async partial(): Promise<PartialSum> {
    await this.settled();
    const sum = new Float64Array(this.length);
    sum.set(new Float64Array(this.memory.buffer, 0, this.length));
    return { sum, totalSamples: this.totalSamples, count: this.count };
  }

  async finish(base: Float32Array): Promise<Float32Array> {
    checkFinish(this.rule, this.length, this.count, base);
    await this.settled();
    // Every slot is free now: the first one takes the base and becomes the result in place.
    const offset = this.slotOffset(0);
    const view = new Float32Array(this.memory.buffer, offset, this.length);
    view.set(base);
    await Promise.all(
      Array.from({ length: this.pool.size }, (_, w) => {
        const [lo, hi] = this.pool.range(w, this.length);
        if (lo === hi) return null;
        const total = this.totalSamples;
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
    return view.slice(); // a new, unshared buffer (a memcpy)
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settled().catch(() => {});
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
