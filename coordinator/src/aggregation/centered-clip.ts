/**
 * Centered clipping (Karimireddy, He and Jaggi 2021): start from a center v and repeat
 * v <- v + mean_i(clip(x_i - v, radius)), where clip scales a vector down to L2 norm `radius`.
 * Each update can move the center by at most radius / n per iteration, however large it is, so
 * a scaled or flipped update's pull is bounded while honest updates near the center count fully.
 *
 * As in the paper, the center starts at the previous round's aggregate step (momentum across
 * rounds): honest steps of consecutive rounds point roughly the same way, so an attacker must
 * pull against that start rather than against a center it helped choose. The step is passed in
 * as `context.previousStep`, derived from the last two stored versions, so the rule itself
 * keeps no state and a restarted coordinator continues the same sequence. On the first round
 * (no previous step) the start is the coordinate-wise median, itself robust. Without a radius
 * the median distance of the updates to the start is used, which adapts to the updates' scale.
 */
import type { AggregationContext, Aggregator, WeightedUpdate } from './aggregator.ts';
import { checkUpdates, median } from './coordinate-wise.ts';
import { Median } from './median.ts';

export class CenteredClip implements Aggregator {
  readonly name = 'centered-clip';
  readonly usesHistory = true;

  constructor(
    readonly radius?: number,
    readonly iterations = 3,
  ) {}

  aggregate(base: Float32Array, updates: WeightedUpdate[], context: AggregationContext = {}): Float32Array {
    checkUpdates(this.name, base, updates);
    const n = base.length;
    const previous = context.previousStep;
    const usable = previous?.length === n && previous.every(Number.isFinite);
    const start = usable ? previous : new Median().aggregate(new Float32Array(n), updates);
    const center = Float64Array.from(start);
    const distance = (delta: Float32Array) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (delta[i] - center[i]) ** 2;
      return Math.sqrt(s);
    };
    const radius = this.radius ?? median(Float64Array.from(updates.map((u) => distance(u.delta))).sort());
    const step = new Float64Array(n);
    for (let it = 0; it < this.iterations; it++) {
      step.fill(0);
      for (const { delta } of updates) {
        const d = distance(delta);
        // An update at the center needs no clipping (and would divide by zero).
        const scale = d <= radius ? 1 : radius / d;
        for (let i = 0; i < n; i++) step[i] += scale * (delta[i] - center[i]);
      }
      for (let i = 0; i < n; i++) center[i] += step[i] / updates.length;
    }
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = base[i] + center[i];
    return out;
  }
}
