/**
 * The RoundAccumulator for a job's `aggregation` spec: the streaming twin of ../rules.ts's
 * aggregatorFor, with the same rule per spec (streaming.case.ts holds each pair to the same
 * results).
 */
import type { AggregationSpec } from '@gridtab/shared';
import type { RoundAccumulator } from './accumulator.ts';
import { type MeanOptions, StreamingMean } from './mean.ts';
import type { AggregationPool } from './pool.ts';
import { type SpillingOptions, StreamingCenteredClip, StreamingCoordinateWise } from './spilling.ts';

export type { RoundAccumulator } from './accumulator.ts';
export { combinePartials, finishPartial, type MeanOptions, type PartialSum, StreamingMean } from './mean.ts';
export { AggregationPool } from './pool.ts';

/** The mean's options (ring pieces, queue) and the spilling rules' (buffers, blocks); `dir` is shared. */
export interface AccumulatorOptions extends SpillingOptions, MeanOptions {}

export function accumulatorFor(
  spec: AggregationSpec,
  pool: AggregationPool,
  length: number,
  options: AccumulatorOptions = {},
): RoundAccumulator {
  switch (spec.rule) {
    case 'mean':
      return new StreamingMean(pool, length, options);
    case 'trimmed-mean':
      return new StreamingCoordinateWise('trimmed-mean', pool, length, spec.trim, options);
    case 'median':
      return new StreamingCoordinateWise('median', pool, length, 0, options);
    case 'centered-clip':
      return new StreamingCenteredClip(pool, length, spec.radius, spec.iterations, options);
  }
}
