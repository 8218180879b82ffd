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
import type { BufferSchedule, Strategy, StrategyStep, StrategyUpdate } from './strategy.ts';

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

export const buffered: StrategyKind<z.output<typeof bufferedSpecSchema>> = {
  name: 'buffered',
  parse: (spec) => bufferedSpecSchema.parse(spec),
  create: (p, rule) => new BufferedStrategy(rule, p.stalenessExponent, p.bufferSize, p.maxStaleness),
};
