/** FedAvg's strategy: the next version is the base plus the rule's combination of the deltas. */
import type { Aggregator } from '../aggregation/aggregator.ts';
import type { Strategy, StrategyStep, StrategyUpdate } from './strategy.ts';

export class FedAvgStrategy implements Strategy {
  readonly name = 'fedavg';
  readonly synchronous = true;
  constructor(private readonly rule: Aggregator) {}

  apply(base: Float32Array, updates: StrategyUpdate[]): StrategyStep {
    return { weights: this.rule.aggregate(base, updates), state: null };
  }
}
