/**
 * The streaming side of aggregation: a RoundAccumulator per open round (or buffered pool) takes
 * each accepted update as it arrives, off the event loop, and finish() makes the aggregate in
 * O(parameters) of work left, with memory bounded by one accumulator plus bounded buffers.
 *
 * Contract with the batch rules (../aggregator.ts): finish(base, context) after folding updates
 * u1..uk in that order returns exactly Aggregator.aggregate(base, [u1..uk], context), bit for bit
 * (streaming.case.ts checks every rule). Only the mean depends on the order, through float64
 * summation; the coordinate-wise rules sort. So the order is part of the result: it is the order
 * of fold() calls, and a rebuild after a restart folds the stored updates in the store's order
 * (created_at, id), which is the order the batch code reads them in.
 */
import type { AggregationContext, WeightedUpdate } from '../aggregator.ts';

export interface RoundAccumulator {
  /** The batch rule this reproduces (Aggregator.name). */
  readonly rule: string;
  /** Updates folded so far. */
  readonly count: number;
  /**
   * The most memory its bounded buffers take (staging, queue, spill buffers and blocks), on top
   * of two model-sized arrays (the mean's float64 sum; the robust rules' shared base and result).
   */
  readonly boundedBytes?: number;
  /**
   * Folds one accepted update. Calls fold in call order even when not awaited; the delta is
   * copied before the promise resolves, so the caller keeps it until then and may reuse it after.
   */
  fold(update: WeightedUpdate): Promise<void>;
  /** The aggregate on `base` (Aggregator.aggregate on the folded updates). Call once. */
  finish(base: Float32Array, context?: AggregationContext): Promise<Float32Array>;
  /** Frees the accumulator's memory, its workers' views and its temp files. Idempotent. */
  close(): Promise<void>;
}

export function checkFold(rule: string, length: number, update: WeightedUpdate): void {
  if (update.delta.length !== length)
    throw new Error(`${rule}: update has ${update.delta.length} values, base ${length}`);
}

export function checkFinish(rule: string, length: number, count: number, base: Float32Array): void {
  if (count === 0) throw new Error(`${rule} needs at least one update`);
  if (base.length !== length) throw new Error(`${rule}: base has ${base.length} values, updates ${length}`);
}
