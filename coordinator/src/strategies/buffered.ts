/**
 * Buffered asynchronous aggregation (FedBuff, Nguyen et al. 2022): a version is made from the
 * last `bufferSize` accepted updates whatever version each was trained on; an update `s`
 * versions stale is scaled by (1 + s)^-exponent before the rule combines them, so old
 * directions count less. Its schedule has no rounds: the scheduler's buffer (scheduler/buffer.ts)
 * refuses updates past the staleness bound and asks it when the buffer makes a version.
 */
import { bufferedSpecSchema } from '@gridtab/shared';
import type { z } from 'zod';
import type { AggregationContext, Aggregator } from '../aggregation/aggregator.ts';
import type { StrategyKind } from './registry.ts';
import { fillBuffer } from './schedules.ts';
import type { BufferSchedule, Strategy, StrategyStep, StrategyUpdate, StreamingStep } from './strategy.ts';

export function stalenessWeight(staleness: number, exponent: number): number {
  return (1 + Math.max(0, staleness)) ** -exponent;
}

export class BufferedStrategy implements Strategy {
  readonly name = 'buffered';
  readonly schedule: BufferSchedule;
  constructor(
    private readonly rule: Aggregator,
    private readonly exponent: number,
    bufferSize: number,
    maxStaleness: number,
  ) {
    this.schedule = fillBuffer(bufferSize, maxStaleness);
  }

  readonly streaming: StreamingStep = {
    ruleBase: (base) => base,
    scaleDelta: (delta, staleness) => this.scaled(delta, staleness),
    step: (_base, aggregated) => ({ weights: aggregated, state: null }),
  };

  /** The delta scaled by its staleness weight, in float32 (the delta itself at weight 1). */
  private scaled(delta: Float32Array, staleness: number): Float32Array {
    const w = stalenessWeight(staleness, this.exponent);
    if (w === 1) return delta;
    const out = new Float32Array(delta.length);
    for (let i = 0; i < out.length; i++) out[i] = delta[i] * w;
    return out;
  }

  apply(
    base: Float32Array,
    updates: StrategyUpdate[],
    _state: Float32Array | null,
    context?: AggregationContext,
  ): StrategyStep {
    const scaled = updates.map((u) => {
      const delta = this.scaled(u.delta, u.staleness);
      return delta === u.delta ? u : { ...u, delta };
    });
    return { weights: this.rule.aggregate(base, scaled, context), state: null };
  }
}

export const buffered: StrategyKind<z.output<typeof bufferedSpecSchema>> = {
  name: 'buffered',
  parse: (spec) => bufferedSpecSchema.parse(spec),
  create: (p, rule) => new BufferedStrategy(rule, p.stalenessExponent, p.bufferSize, p.maxStaleness),
};
