/**
 * Streaming versions of the rules that need every value of a coordinate: the coordinate-wise
 * median and trimmed mean, and centered clipping. fold() appends the update to a ColumnSpill
 * (bounded memory, the rest on disk); finish() reads it back block by block and the pool's
 * workers apply the same arithmetic as the batch rule (fold-worker.mjs), so results are
 * bit-identical to ../median.ts, ../trimmed-mean.ts and ../centered-clip.ts.
 */
import type { AggregationContext, WeightedUpdate } from '../aggregator.ts';
import { median } from '../coordinate-wise.ts';
import { checkFinish, checkFold, type RoundAccumulator } from './accumulator.ts';
import { copyInPieces, unsharedCopy } from './pieces.ts';
import type { AggregationPool } from './pool.ts';
import { type ColumnBlock, ColumnSpill, type SpillOptions } from './spill.ts';

export interface SpillingOptions extends SpillOptions {
  /** Memory for one block being reduced (default 64 MiB; two are held while the next is read). */
  blockBytes?: number;
}

abstract class SpillingAccumulator implements RoundAccumulator {
  abstract readonly rule: string;
  /** Its rows (public for the queue's figures). */
  readonly spill: ColumnSpill;

  constructor(
    protected readonly pool: AggregationPool,
    readonly length: number,
    protected readonly options: SpillingOptions = {},
  ) {
    this.spill = new ColumnSpill(length, options);
  }

  get count(): number {
    return this.spill.rows;
  }

  /** The spill's row buffer, queue and write piece, and the two column blocks of finish(). */
  get boundedBytes(): number {
    const { rows, length } = this.spill;
    const width = Math.min(length, this.spill.widthFor(this.options.blockBytes ?? 64 << 20));
    return this.spill.foldingBytes + 2 * rows * width * 4;
  }

  fold(update: WeightedUpdate): Promise<void> {
    try {
      checkFold(this.rule, this.length, update);
      return this.spill.append(update.delta);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  abstract finish(base: Float32Array, context?: AggregationContext): Promise<Float32Array>;

  /** Runs `message(from, to)` on every worker, each over its share of [0, size). */
  protected split(
    size: number,
    message: (from: number, to: number) => Record<string, unknown> & { op: string },
  ) {
    return Promise.all(
      Array.from({ length: this.pool.size }, (_, w) => {
        const [from, to] = this.pool.range(w, size);
        return from < to ? this.pool.call(w, message(from, to)) : null;
      }),
    );
  }

  protected blocks(): AsyncGenerator<ColumnBlock> {
    return this.spill.blocks(this.spill.widthFor(this.options.blockBytes ?? 64 << 20));
  }

  /** The base in shared memory, where the workers add the rule's value to it in place. */
  protected async shared(base: Float32Array): Promise<{ out: SharedArrayBuffer; view: Float32Array }> {
    const out = new SharedArrayBuffer(this.length * 4);
    const view = new Float32Array(out);
    await copyInPieces(base, view);
    return { out, view };
  }

  close(): Promise<void> {
    return this.spill.close();
  }
}

/** Coordinate-wise median and trimmed mean (sample counts ignored, as in the batch rules). */
export class StreamingCoordinateWise extends SpillingAccumulator {
  constructor(
    readonly rule: 'median' | 'trimmed-mean',
    pool: AggregationPool,
    length: number,
    private readonly trim = 0,
    options?: SpillingOptions,
  ) {
    super(pool, length, options);
  }

  async finish(base: Float32Array): Promise<Float32Array> {
    checkFinish(this.rule, this.length, this.count, base);
    const cut = Math.floor(this.trim * this.count);
    const { out, view } = await this.shared(base);
    for await (const block of this.blocks()) {
      await this.split(block.width, (from, to) => ({
        op: 'columns',
        block,
        from,
        to,
        out,
        rule: this.rule,
        cut,
      }));
    }
    return unsharedCopy(view); // a new, unshared array, in pieces
  }
}

/**
 * Centered clipping in 1 + iterations passes over the spill: the first finds the start (the
 * previous step, or the coordinate-wise median) and every update's distance to it; each
 * iteration then steps the center block by block and, on the same block, sums the distances to
 * the new center for the next iteration. Distances add coordinates in ascending order per
 * update, and steps add updates in fold order per coordinate: the batch rule's orders.
 */
export class StreamingCenteredClip extends SpillingAccumulator {
  readonly rule = 'centered-clip';

  constructor(
    pool: AggregationPool,
    length: number,
    private readonly radius?: number,
    private readonly iterations = 3,
    options?: SpillingOptions,
  ) {
    super(pool, length, options);
  }

  async finish(base: Float32Array, context: AggregationContext = {}): Promise<Float32Array> {
    checkFinish(this.rule, this.length, this.count, base);
    const rows = this.count;
    const previous = context.previousStep;
    const usable = previous?.length === this.length && previous.every(Number.isFinite);
    const center = new SharedArrayBuffer(this.length * 8);
    if (usable) new Float64Array(center).set(previous);
    const sumsq = new SharedArrayBuffer(rows * 8);
    const sums = new Float64Array(sumsq);
    const distances = (block: ColumnBlock) =>
      this.split(rows, (u0, u1) => ({ op: 'clipDistance', block, u0, u1, center, sumsq }));
    for await (const block of this.blocks()) {
      if (!usable)
        await this.split(block.width, (from, to) => ({ op: 'clipMedian', block, from, to, center }));
      await distances(block);
    }
    const d = sums.map(Math.sqrt);
    const radius = this.radius ?? median(Float64Array.from(d).sort());
    const scales = new SharedArrayBuffer(rows * 8);
    for (let it = 0; it < this.iterations; it++) {
      const scale = new Float64Array(scales);
      for (let u = 0; u < rows; u++) scale[u] = d[u] <= radius ? 1 : radius / d[u];
      const last = it === this.iterations - 1;
      sums.fill(0);
      for await (const block of this.blocks()) {
        await this.split(block.width, (from, to) => ({ op: 'clipStep', block, from, to, center, scales }));
        if (!last) await distances(block);
      }
      for (let u = 0; u < rows; u++) d[u] = Math.sqrt(sums[u]);
    }
    const { out, view } = await this.shared(base);
    await this.split(this.length, (from, to) => ({ op: 'addCenter', out, center, from, to }));
    return unsharedCopy(view); // a new, unshared array, in pieces
  }
}
