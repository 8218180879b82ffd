/**
 * Coordinate-wise trimmed mean (Yin et al. 2018): per parameter, drop the `trim` fraction of
 * largest and of smallest values and average the rest. With trim t, up to floor(t * n) hostile
 * updates per side cannot pull a coordinate outside the honest values' range.
 */
import type { Aggregator, WeightedUpdate } from './aggregator.ts';
import { coordinateWise } from './coordinate-wise.ts';

export class TrimmedMean implements Aggregator {
  readonly name = 'trimmed-mean';

  constructor(readonly trim = 0.2) {
    if (!(trim >= 0 && trim < 0.5)) throw new Error(`trimmed mean: trim ${trim} outside [0, 0.5)`);
  }

  aggregate(base: Float32Array, updates: WeightedUpdate[]): Float32Array {
    const cut = Math.floor(this.trim * updates.length);
    return coordinateWise(this.name, base, updates, (sorted) => {
      let sum = 0;
      for (let i = cut; i < sorted.length - cut; i++) sum += sorted[i];
      return sum / (sorted.length - 2 * cut);
    });
  }
}
