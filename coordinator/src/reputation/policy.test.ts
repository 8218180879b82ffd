/**
 * The reputation policy, and the promise it makes: a lazy contributor (one that sends zero or
 * under-trained updates, every one of which fails its check) is caught within 50 units with
 * probability at least 99%, whether it is new or turns lazy after a long honest record.
 */
import { mulberry32 } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import {
  checkRate,
  DEFAULT_MIN_RATE,
  detectionProbability,
  minRateFor,
  PROBATION_CHECKS,
  reputationOf,
  shouldQuarantine,
} from './policy.ts';

const rec = (checksPassed: number, checksFailed = 0) => ({ checksPassed, checksFailed });

describe('reputation policy', () => {
  it('scores agreement: new 0.5, passes raise it, a failure weighs four passes', () => {
    expect(reputationOf(null)).toBe(0.5);
    expect(reputationOf(rec(8))).toBeCloseTo(0.9, 6);
    expect(reputationOf(rec(20, 1))).toBeCloseTo(21 / 26, 6);
    expect(reputationOf(rec(0, 1))).toBeCloseTo(1 / 6, 6);
  });

  it('checks new contributors on every unit, then less as reputation grows, never below the floor', () => {
    for (let p = 0; p < PROBATION_CHECKS; p++) expect(checkRate(rec(p))).toBe(1);
    expect(checkRate(rec(3))).toBeCloseTo(0.2, 6);
    expect(checkRate(rec(1000))).toBe(DEFAULT_MIN_RATE);
    expect(checkRate(rec(1000), 0.3)).toBe(0.3);
    expect(checkRate(rec(10, 2))).toBeGreaterThan(checkRate(rec(10))); // low reputation: checked more
  });

  it('quarantines a new contributor at its first failure, not a long-honest one', () => {
    expect(shouldQuarantine(rec(0, 1))).toBe(true);
    expect(shouldQuarantine(rec(20, 1))).toBe(false);
    expect(shouldQuarantine(rec(20, 0))).toBe(false);
    // Repeated failures bring anyone down.
    let failed = 1;
    while (!shouldQuarantine(rec(20, failed))) failed++;
    expect(failed).toBe(16);
  });

  it('catches an always-lazy contributor within 50 units with at least 99% (computed)', () => {
    expect(detectionProbability(50)).toBeGreaterThanOrEqual(0.99);
    expect(detectionProbability(50)).toBeCloseTo(1 - 0.9 ** 50, 12);
    expect(minRateFor(50, 0.99)).toBeCloseTo(0.088, 4);
  });

  it('catches simulated lazy contributors within 50 units at least 99% of the time', () => {
    const rand = mulberry32(2026);
    const trials = 20_000;
    const within = (history: { checksPassed: number; checksFailed: number }) => {
      for (let unit = 1; unit <= 50; unit++) {
        if (rand() < checkRate(history)) return true; // checked: a lazy update always fails
      }
      return false;
    };
    // Turned lazy after 500 passed checks (the floor applies), and brand new (probation).
    let veteran = 0;
    let fresh = 0;
    for (let t = 0; t < trials; t++) {
      if (within(rec(500))) veteran++;
      if (within(rec(0))) fresh++;
    }
    expect(veteran / trials).toBeGreaterThanOrEqual(0.99);
    expect(fresh).toBe(trials);
  });
});
