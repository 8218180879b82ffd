/** FedAvg's strategy: synchronous rounds; the next version is the base plus the rule's combination of the deltas. */
import { fedavgSpecSchema } from '@gridtab/shared';
import type { AggregationContext, Aggregator } from '../aggregation/aggregator.ts';
import type { StrategyKind } from './registry.ts';
import { quorumRounds } from './schedules.ts';
import type { Strategy, StrategyStep, StrategyUpdate, StreamingStep } from './strategy.ts';

export class FedAvgStrategy implements Strategy {
  readonly name = 'fedavg';
  readonly schedule = quorumRounds;
  readonly streaming: StreamingStep = {
    ruleBase: (base) => base,
    step: (_base, aggregated) => ({ weights: aggregated, state: null }),
  };
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

export const fedavg: StrategyKind<unknown> = {
  name: 'fedavg',
  parse: (spec) => fedavgSpecSchema.parse(spec),
  create: (_params, rule) => new FedAvgStrategy(rule),
};
