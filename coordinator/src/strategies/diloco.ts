/**
 * DiLoCo's outer step (Douillard et al. 2023): the units' deltas (each H AdamW steps in a tab)
 * are combined by the job's rule into one delta; its negation is the outer gradient g, and the
 * weights take one Nesterov-momentum SGD step:  m <- mu*m + g;  w <- w - lr*(g + mu*m).
 * The momentum buffer m is the strategy's state, persisted with each version.
 */
import { dilocoSpecSchema } from '@gridtab/shared';
import type { z } from 'zod';
import type { AggregationContext, Aggregator } from '../aggregation/aggregator.ts';
import type { StrategyKind } from './registry.ts';
import { quorumRounds } from './schedules.ts';
import type { Strategy, StrategyStep, StrategyUpdate, StreamingStep, UnitTraining } from './strategy.ts';

export class DiLoCoStrategy implements Strategy {
  readonly name = 'diloco';
  readonly schedule = quorumRounds;
  constructor(
    private readonly rule: Aggregator,
    private readonly lr: number,
    private readonly mu: number,
    private readonly weightDecay = 0,
  ) {}

  /** The inner optimizer is AdamW, whatever the hyperparameters name. */
  training(): UnitTraining {
    return { optimizer: 'adamw', weightDecay: this.weightDecay };
  }

  readonly streaming: StreamingStep = {
    // The rule on a zero base gives the combined delta itself.
    ruleBase: (base) => new Float32Array(base.length),
    step: (base, delta, state) => this.outerStep(base, delta, state),
  };

  apply(
    base: Float32Array,
    updates: StrategyUpdate[],
    state: Float32Array | null,
    context?: AggregationContext,
  ): StrategyStep {
    const delta = this.rule.aggregate(this.streaming.ruleBase(base), updates, context);
    return this.outerStep(base, delta, state);
  }

  private outerStep(base: Float32Array, delta: Float32Array, state: Float32Array | null): StrategyStep {
    if (state && state.length !== base.length)
      throw new Error(`momentum has ${state.length} values, weights ${base.length}`);
    const momentum = new Float32Array(base.length);
    const weights = new Float32Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const g = -delta[i];
      const m = this.mu * (state ? state[i] : 0) + g;
      momentum[i] = m;
      weights[i] = base[i] - this.lr * (g + this.mu * m);
    }
    return { weights, state: momentum };
  }
}

export const diloco: StrategyKind<z.output<typeof dilocoSpecSchema>> = {
  name: 'diloco',
  parse: (spec) => dilocoSpecSchema.parse(spec),
  create: (p, rule) => new DiLoCoStrategy(rule, p.outerLearningRate, p.outerMomentum, p.weightDecay),
};
