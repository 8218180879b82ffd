/**
 * The Strategy interface: how a job's accepted updates become its next version. It wraps the
 * job's aggregation rule (mean or a robust rule, orthogonal to the strategy), and may keep state
 * across versions (DiLoCo's outer momentum), which the scheduler stores as a blob referenced from
 * the version so a restarted coordinator continues exactly. Variants run strategy.case.ts.
 */
import type { StrategyName } from '@gridtab/shared';
import type { AggregationContext, WeightedUpdate } from '../aggregation/aggregator.ts';

export interface StrategyUpdate extends WeightedUpdate {
  /** Versions committed between the update's base version and the version it is applied to. */
  staleness: number;
}

export interface StrategyStep {
  weights: Float32Array;
  /** What the next step needs (null: nothing); persisted with the version. */
  state: Float32Array | null;
}

export interface Strategy {
  readonly name: StrategyName;
  /** Whether units are grouped in synchronous rounds (fedavg, diloco) or not (buffered). */
  readonly synchronous: boolean;
  apply(
    base: Float32Array,
    updates: StrategyUpdate[],
    state: Float32Array | null,
    context?: AggregationContext,
  ): StrategyStep;
}
