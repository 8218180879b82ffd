/**
 * Successive halving at one rung (synchronous ASHA): once every live trial of the rung has
 * reached it, the top 1/eta by the metric go on (at least one) and the rest are stopped.
 * Trials whose metric is missing or not finite rank last. Pure, so it is tested on its own and
 * a restart that finds the rung undecided decides it the same way.
 */
import { METRIC_GOAL, type SweepMetric } from '@gridtab/shared';

export interface RungEntry {
  id: string;
  /** The metric at the rung's round. */
  value: number | null;
  /** Trial index: ties go to the earlier trial, so the decision is deterministic. */
  index: number;
}

export function decideRung(
  entries: RungEntry[],
  eta: number,
  metric: SweepMetric,
): { promote: string[]; stop: string[] } {
  const sign = METRIC_GOAL[metric] === 'max' ? -1 : 1;
  const score = (e: RungEntry) =>
    e.value !== null && Number.isFinite(e.value) ? sign * e.value : Number.POSITIVE_INFINITY;
  const ranked = [...entries].sort((a, b) => score(a) - score(b) || a.index - b.index);
  const keep = Math.max(1, Math.floor(entries.length / eta));
  return { promote: ranked.slice(0, keep).map((e) => e.id), stop: ranked.slice(keep).map((e) => e.id) };
}
