/** FedAvg's strategy: the next version is the base plus the rule's combination of the deltas. */
import type { AggregationContext, Aggregator } from '../aggregation/aggregator.ts';
import type { Strategy, StrategyStep, StrategyUpdate } from './strategy.ts';

export class FedAvgStrategy implements Strategy {
  readonly name = 'fedavg';
  readonly synchronous = true;
  constructor(private readonly rule: Aggregator) {}

  apply(
    base: Float32Array,
    updates: StrategyUpdate[],
    _state: Float32Array | null,
    context?: AggregationContext,
  ): StrategyStep {
    return { weights: this.rule.aggregate(base, updates, context), state: null };
  }
}
