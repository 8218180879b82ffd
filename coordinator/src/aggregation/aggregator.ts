/**
 * The Aggregator interface: turns a base version's weights and the round's accepted updates
 * (deltas from that base) into the next version's weights. Variants (fedavg, trimmed-mean, median,
 * centered-clip) all run the shared suite in aggregator.case.ts. Buffered and DiLoCo are
 * strategies (strategies/), which call these rules rather than being rules themselves.
 */
export interface WeightedUpdate {
  delta: Float32Array;
  numSamples: number;
}

/**
 * What a rule may know of the job's history, derived from stored versions (so a restarted
 * coordinator continues where it stopped): the previous round's aggregate step, i.e. the base
 * version's weights minus its parent's. Absent on the first round.
 */
export interface AggregationContext {
  previousStep?: Float32Array;
}

export interface Aggregator {
  readonly name: string;
  /** True when the rule reads `context.previousStep` (the caller loads it only then). */
  readonly usesHistory?: boolean;
  aggregate(base: Float32Array, updates: WeightedUpdate[], context?: AggregationContext): Float32Array;
}
