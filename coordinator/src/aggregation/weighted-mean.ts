/**
 * The `mean` rule: the next weights are the base plus the mean of the clients' deltas weighted
 * by how many samples each trained on (the averaging step of McMahan et al.'s FedAvg; the
 * `fedavg` strategy in strategies/ is the round schedule that uses a rule like this one).
 *
 * The order of operations is fixed so a streaming sum can reproduce it bit for bit
 * (streaming/mean.ts): sum numSamples * delta in float64, in the updates' order (each product is
 * exact while numSamples < 2^29, so only the additions round), then base + sum / total. The
 * result depends on the order only through float64 rounding, far below float32's.
 */
import type { Aggregator, WeightedUpdate } from './aggregator.ts';

export class WeightedMean implements Aggregator {
  readonly name = 'mean';

  aggregate(base: Float32Array, updates: WeightedUpdate[]): Float32Array {
    if (updates.length === 0) throw new Error('fedavg needs at least one update');
    const total = updates.reduce((n, u) => n + u.numSamples, 0);
    const acc = new Float64Array(base.length);
    for (const { delta, numSamples } of updates) {
      if (delta.length !== base.length)
        throw new Error(`update has ${delta.length} values, base ${base.length}`);
      for (let i = 0; i < acc.length; i++) acc[i] += numSamples * delta[i];
    }
    const out = new Float32Array(base.length);
    for (let i = 0; i < out.length; i++) out[i] = base[i] + acc[i] / total;
    return out;
  }
}
