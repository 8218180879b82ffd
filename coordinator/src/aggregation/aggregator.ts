/**
 * The Aggregator interface: turns a base version's weights and the round's accepted updates
 * (deltas from that base) into the next version's weights. Variants (fedavg, trimmed-mean, median,
 * centered-clip; buffered and diloco later) all run the shared suite in aggregator.case.ts.
 */
export interface WeightedUpdate {
  delta: Float32Array;
  numSamples: number;
}

export interface Aggregator {
  readonly name: string;
  aggregate(base: Float32Array, updates: WeightedUpdate[]): Float32Array;
}
