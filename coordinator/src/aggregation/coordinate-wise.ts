/**
 * Shared loop of the coordinate-wise robust rules (trimmed mean, median): for every parameter,
 * the updates' values at that coordinate, sorted, reduced to one number. Sample counts are
 * ignored on purpose: they are what a tab claims, and a hostile tab would claim a lot.
 */
import type { WeightedUpdate } from './aggregator.ts';

export function checkUpdates(rule: string, base: Float32Array, updates: WeightedUpdate[]): void {
  if (updates.length === 0) throw new Error(`${rule} needs at least one update`);
  for (const { delta } of updates) {
    if (delta.length !== base.length)
      throw new Error(`update has ${delta.length} values, base ${base.length}`);
  }
}

/** base + reduce(sorted column) per coordinate; `reduce` sees a Float64Array sorted ascending. */
export function coordinateWise(
  rule: string,
  base: Float32Array,
  updates: WeightedUpdate[],
  reduce: (sorted: Float64Array) => number,
): Float32Array {
  checkUpdates(rule, base, updates);
  const column = new Float64Array(updates.length);
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    for (let u = 0; u < updates.length; u++) column[u] = updates[u].delta[i];
    column.sort();
    out[i] = base[i] + reduce(column);
  }
  return out;
}

export function median(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
