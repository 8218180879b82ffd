/**
 * Coordinate-wise median (Yin et al. 2018): per parameter, the middle value (the mean of the two
 * middle ones for an even count). Holds while fewer than half the updates are hostile, at the
 * price of more variance than the mean when everyone is honest.
 */
import type { Aggregator, WeightedUpdate } from './aggregator.ts';
import { coordinateWise, median } from './coordinate-wise.ts';

export class Median implements Aggregator {
  readonly name = 'median';

  aggregate(base: Float32Array, updates: WeightedUpdate[]): Float32Array {
    return coordinateWise(this.name, base, updates, median);
  }
}
