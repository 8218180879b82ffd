import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import {
  accuracyAfterPromotion,
  alertThresholdsFromEnv,
  drift,
  noProgress,
  rejectionRate,
  DEFAULT_ALERT_THRESHOLDS as T,
} from './alert-rules.ts';
import { AlertEngine } from './alerts.ts';
import { referenceOf } from './drift-reference.ts';
import { createMetrics } from './metrics.ts';
import { UpdateOutcomes } from './outcomes.ts';

const uniform = { classMix: new Array(10).fill(0.1), inputMean: 0.3, inputStd: 0.35 };

describe('alert rules', () => {
  it('accuracy after a promotion: fires when the promoted or a later version is worse by more than the bound', () => {
    const p = (current: number, previous: number | null, later: number | null = null) => ({
      model: 'fashion',
      alias: 'production',
      current: { versionId: 'v2', testAccuracy: current },
      previous: { versionId: 'v1', testAccuracy: previous },
      later: later === null ? null : { versionId: 'v3', testAccuracy: later },
    });
    expect(accuracyAfterPromotion([p(0.85, 0.86)], T)).toEqual([]); // within 2 points
    expect(accuracyAfterPromotion([p(0.9, 0.86)], T)).toEqual([]);
    expect(accuracyAfterPromotion([p(0.8, null)], T)).toEqual([]); // nothing to compare with
    const [f] = accuracyAfterPromotion([p(0.8, 0.86)], T);
    expect(f).toMatchObject({ rule: 'accuracy-after-promotion', subject: 'fashion/production' });
    expect(f.message).toContain('6.0 points below v1');
    const [later] = accuracyAfterPromotion([p(0.86, 0.86, 0.7)], T);
    expect(later.message).toContain('v3');
    expect(accuracyAfterPromotion([p(0.8, 0.86)], { ...T, accuracyDrop: 0.1 })).toEqual([]);
  });

  it('drift: judges class mix and input statistics against the training reference', () => {
    const base = {
      model: 'fashion',
      versionId: 'v2',
      predictions: 500,
      classCounts: new Array(10).fill(50),
      input: { mean: 0.31, std: 0.34 },
      reference: uniform,
    };
    expect(drift([base], T)).toEqual([]);
    const skewed = { ...base, classCounts: [450, 50, 0, 0, 0, 0, 0, 0, 0, 0] };
    expect(drift([skewed], T)[0].message).toContain('training mix');
    expect(drift([{ ...base, input: { mean: 0.6, std: 0.34 } }], T)[0].message).toContain('input mean');
    expect(drift([{ ...base, input: { mean: 0.3, std: 0.1 } }], T)[0].message).toContain('spread');
    // Too few predictions, or no training data to compare with: no judgement.
    expect(drift([{ ...skewed, predictions: 20 }], T)).toEqual([]);
    expect(drift([{ ...skewed, reference: null }], T)).toEqual([]);
  });

  it('drift reference: class mix and [0, 1] pixel statistics of the test set', () => {
    const pixels = { inputMean: [0], inputStd: [255], targetMean: null, targetStd: null };
    const ref = referenceOf(new Uint8Array([0, 255, 0, 255]), new Uint8Array([0, 1, 1, 1]), 3, pixels, 1);
    expect(ref.classMix).toEqual([0.25, 0.75, 0]);
    expect(ref.inputMean).toBeCloseTo(0.5);
    expect(ref.inputStd).toBeCloseTo(0.5);
  });

  it('rejection rate: over a window of the injected clock, with a minimum of updates', () => {
    const clock = new ManualClock();
    const outcomes = new UpdateOutcomes(T.rejectionWindowMs);
    for (let i = 0; i < 4; i++) outcomes.submitted('c-bad', false, clock.now());
    outcomes.submitted('c-good', true, clock.now());
    expect(rejectionRate(outcomes.contributorRates(clock.now()), T)).toEqual([]); // 4 < 5 updates
    outcomes.submitted('c-bad', true, clock.now());
    outcomes.submitted('c-bad', false, clock.now());
    const [f] = rejectionRate(outcomes.contributorRates(clock.now()), T);
    expect(f).toMatchObject({ rule: 'rejection-rate', subject: 'c-bad' });
    expect(f.message).toContain('5 of its last 6');
    clock.advance(T.rejectionWindowMs + 1);
    expect(rejectionRate(outcomes.contributorRates(clock.now()), T)).toEqual([]);
  });

  it('no progress: a running job past the bound of the injected clock', () => {
    const clock = new ManualClock();
    const job = { jobId: 'j1', name: 'demo', running: true, lastProgressAt: clock.now() };
    clock.advance(T.noProgressMs);
    expect(noProgress([job], clock.now(), T)).toEqual([]);
    clock.advance(1);
    expect(noProgress([job], clock.now(), T)).toMatchObject([{ rule: 'no-progress', subject: 'j1' }]);
    expect(noProgress([{ ...job, running: false }], clock.now(), T)).toEqual([]);
  });

  it('reads thresholds from the environment and refuses nonsense', () => {
    expect(alertThresholdsFromEnv({ GRIDTAB_ALERT_NO_PROGRESS_MS: '2000' }).noProgressMs).toBe(2000);
    expect(alertThresholdsFromEnv({}).accuracyDrop).toBe(0.02);
    expect(() => alertThresholdsFromEnv({ GRIDTAB_ALERT_REJECTION_RATE: 'high' })).toThrow(/REJECTION_RATE/);
  });
});

describe('alert engine', () => {
  it('fires once per rule and subject, keeps its start, resolves, and shows both in /metrics', async () => {
    const clock = new ManualClock();
    const metrics = createMetrics();
    const engine = new AlertEngine({ clock, log: () => {}, metrics });
    const finding = { rule: 'no-progress' as const, subject: 'j1', message: 'stuck for 60 s' };
    engine.update([finding]);
    const since = clock.now();
    clock.advance(5000);
    engine.update([{ ...finding, message: 'stuck for 65 s' }]);
    expect(engine.list()).toEqual([
      { id: 'no-progress:j1', ...finding, message: 'stuck for 65 s', since, resolvedAt: null },
    ]);
    let text = await metrics.registry.metrics();
    expect(text).toContain('gridtab_alert_active{rule="no-progress",subject="j1"} 1');
    expect(text).toContain('gridtab_alert_firings_total{rule="no-progress"} 1');

    clock.advance(1000);
    engine.update([]);
    expect(engine.list()).toMatchObject([{ id: 'no-progress:j1', resolvedAt: clock.now() }]);
    text = await metrics.registry.metrics();
    expect(text).toContain('gridtab_alert_active{rule="no-progress",subject="j1"} 0');

    engine.update([finding]);
    expect(engine.list().map((a) => a.resolvedAt)).toEqual([null, clock.now()]);
    expect(await metrics.registry.metrics()).toContain('gridtab_alert_firings_total{rule="no-progress"} 2');
  });
});
