/**
 * The Strategy interface: how a job's units are grouped into versions (its schedule) and how the
 * accepted updates become the next version (apply). It wraps the job's aggregation rule (mean or
 * a robust rule, orthogonal to the strategy), and may keep state across versions (DiLoCo's outer
 * momentum), which the scheduler stores as a blob referenced from the version so a restarted
 * coordinator continues exactly. Variants run strategy.case.ts; a new one is a file of its own
 * registered in index.ts (registry.ts says how).
 */
import type { WorkUnit } from '@gridtab/shared';
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

/** Where an open round stands, for its strategy to say whether it makes its version now. */
export interface RoundProgress {
  /** Its units with an accepted update, of `units`. */
  done: number;
  units: number;
  /** The job's share of a round's units that makes its version (rounds.quorum). */
  quorum: number;
  /** True only when the round's deadline has passed (the scheduler's tick asks then). */
  deadlinePassed: boolean;
}

/** Synchronous rounds: every unit of a round trains on the same version. */
export interface RoundSchedule {
  readonly kind: 'rounds';
  /** Whether the round makes its version now; false with its deadline passed: another deadline. */
  closes(progress: RoundProgress): boolean;
}

/** No rounds: a pool of units on the newest version; accepted updates fill a buffer. */
export interface BufferSchedule {
  readonly kind: 'buffer';
  /** Whether `buffered` accepted updates make a version now. */
  closes(buffered: number): boolean;
  /** Updates trained on a version more than this many versions old are refused (STALE_VERSION). */
  readonly maxStaleness: number;
}

export type Schedule = RoundSchedule | BufferSchedule;

/** What a unit's local training uses in place of the job's hyperparameters. */
export type UnitTraining = Pick<WorkUnit, 'optimizer' | 'weightDecay'>;

/**
 * How a strategy's step splits around its rule, so the rule can run as a streaming accumulator
 * (scheduler/streaming.ts) that folds each update as it arrives: apply(base, updates, state, ctx)
 * must equal step(base, rule(ruleBase(base), updates scaled by scaleDelta, ctx), state), bit for
 * bit (the built-in strategies implement apply that way). A strategy without it is made in batch.
 */
export interface StreamingStep {
  /** The base the rule combines the deltas on (fedavg: the weights; DiLoCo: zeros). */
  ruleBase(base: Float32Array): Float32Array;
  /** The delta the rule sees for an update `staleness` versions old (absent: the delta as is). */
  scaleDelta?(delta: Float32Array, staleness: number): Float32Array;
  /** The next step from the rule's result on ruleBase(base). */
  step(base: Float32Array, aggregated: Float32Array, state: Float32Array | null): StrategyStep;
}

export interface Strategy {
  readonly name: string;
  readonly schedule: Schedule;
  /** Present when the strategy's versions may be aggregated streaming (see StreamingStep). */
  readonly streaming?: StreamingStep;
  /** The units' optimizer (DiLoCo: AdamW whatever the job names); absent: the job's. */
  training?(optimizer: WorkUnit['optimizer']): UnitTraining;
  apply(
    base: Float32Array,
    updates: StrategyUpdate[],
    state: Float32Array | null,
    context?: AggregationContext,
  ): StrategyStep;
}
