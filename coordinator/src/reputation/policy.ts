/**
 * How a contributor's spot-check record becomes a reputation, a check rate and a quarantine.
 *
 * - Reputation is (passed + 1) / (passed + 2 + 4 * failed): a new contributor starts at 0.5,
 *   passes raise it towards 1, and one failure weighs as much as four passes.
 * - New contributors are checked on every unit until they have passed PROBATION_CHECKS; after
 *   that the rate is 1 - reputation, never below the job's floor (`minRate`, default 0.1).
 * - A contributor is quarantined once it has failed and its reputation falls below 0.25: a new
 *   contributor whose first check fails is out at once; a long-honest one survives a stray
 *   failure (after 20 passes, one failure leaves 21 / 26 = 0.81).
 *
 * The floor is what guarantees detection: a contributor that cheats on every unit is checked
 * with probability at least minRate per unit, so it is caught within u units with probability
 * 1 - (1 - minRate)^u; minRate 0.1 gives 99.5% within 50 units (0.088 is the least for 99%).
 */
import type { ReputationRecord } from '../storage/reputation-records.ts';

export const PROBATION_CHECKS = 3;
export const DEFAULT_MIN_RATE = 0.1;
export const QUARANTINE_BELOW = 0.25;
const FAILURE_WEIGHT = 4;

type Counts = Pick<ReputationRecord, 'checksPassed' | 'checksFailed'> | null;

export function reputationOf(r: Counts): number {
  const passed = r?.checksPassed ?? 0;
  const failed = r?.checksFailed ?? 0;
  return (passed + 1) / (passed + 2 + FAILURE_WEIGHT * failed);
}

export function checkRate(r: Counts, minRate = DEFAULT_MIN_RATE): number {
  if ((r?.checksPassed ?? 0) < PROBATION_CHECKS) return 1;
  return Math.min(1, Math.max(minRate, 1 - reputationOf(r)));
}

export function shouldQuarantine(r: Counts): boolean {
  return (r?.checksFailed ?? 0) > 0 && reputationOf(r) < QUARANTINE_BELOW;
}

/** Probability that a contributor cheating on every unit is checked at least once in `units`. */
export function detectionProbability(units: number, minRate = DEFAULT_MIN_RATE): number {
  return 1 - (1 - minRate) ** units;
}

/** The least floor that catches an always-cheating contributor within `units` with `probability`. */
export function minRateFor(units: number, probability: number): number {
  return 1 - (1 - probability) ** (1 / units);
}
