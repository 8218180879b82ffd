/**
 * Buffered asynchronous aggregation (FedBuff, Nguyen et al. 2022): a version is made from the
 * last `bufferSize` accepted updates whatever version each was trained on; an update `s`
 * versions stale is scaled by (1 + s)^-exponent before the rule combines them, so old
 * directions count less. Refusing updates past the staleness bound is the scheduler's job.
 */
import type { AggregationContext, Aggregator } from '../aggregation/aggregator.ts';
import type { Strategy, StrategyStep, StrategyUpdate } from './strategy.ts';

export function stalenessWeight(staleness: number, exponent: number): number {
  return (1 + Math.max(0, staleness)) ** -exponent;
}

export class BufferedStrategy implements Strategy {
  readonly name = 'buffered';
  readonly synchronous = false;
  constructor(
    private readonly rule: Aggregator,
    private readonly exponent: number,
  ) {}

  apply(
    base: Float32Array,
    updates: StrategyUpdate[],
    _state: Float32Array | null,
    context?: AggregationContext,
  ): StrategyStep {
    const scaled = updates.map((u) => {
      const w = stalenessWeight(u.staleness, this.exponent);
      if (w === 1) return u;
      const delta = new Float32Array(u.delta.length);
      for (let i = 0; i < delta.length; i++) delta[i] = u.delta[i] * w;
      return { ...u, delta };
    });
    return { weights: this.rule.aggregate(base, scaled, context), state: null };
  }
}
