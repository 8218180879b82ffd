/** The Strategy a job's spec names, combining with the job's aggregation rule. */
import { type AggregationSpec, type StrategySpec, strategyOf } from '@gridtab/shared';
import { aggregatorFor } from '../aggregation/rules.ts';
import { BufferedStrategy } from './buffered.ts';
import { DiLoCoStrategy } from './diloco.ts';
import type { Strategy } from './strategy.ts';
import { FedAvgStrategy } from './sync.ts';

export type { Strategy, StrategyStep, StrategyUpdate } from './strategy.ts';

export function strategyFor(spec: StrategySpec, aggregation: AggregationSpec): Strategy {
  const rule = aggregatorFor(aggregation);
  switch (spec.name) {
    case 'fedavg':
      return new FedAvgStrategy(rule);
    case 'buffered':
      return new BufferedStrategy(rule, spec.stalenessExponent);
    case 'diloco':
      return new DiLoCoStrategy(rule, spec.outerLearningRate, spec.outerMomentum);
  }
}

/** The Strategy of a stored job (jobs stored before strategies existed have none; the store fills the rule). */
export function jobStrategy(spec: { strategy?: unknown; aggregation: AggregationSpec }): Strategy {
  return strategyFor(strategyOf(spec), spec.aggregation);
}
