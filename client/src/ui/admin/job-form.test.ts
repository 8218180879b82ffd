import { jobSpecSchema, MODEL_PRESETS } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { defaultsFor, toJobSpec } from './job-form.ts';

describe('job form', () => {
  it('turns each preset into a spec the coordinator accepts', () => {
    for (const preset of ['fashion-mlp', 'fashion-cnn'] as const) {
      const result = toJobSpec(defaultsFor(preset));
      expect(result.ok).toBe(true);
      if (result.ok) {
        expect(result.spec.model).toBe(MODEL_PRESETS[preset]);
        expect(jobSpecSchema.safeParse(result.spec).success).toBe(true);
      }
    }
  });

  it('converts the target accuracy from percent', () => {
    const result = toJobSpec({ ...defaultsFor('fashion-mlp'), targetAccuracyPercent: 85 });
    expect(result.ok && result.spec.stopping?.targetAccuracy).toBe(0.85);
  });

  it('refuses bad values with the field named', () => {
    const cases: [Partial<ReturnType<typeof defaultsFor>>, RegExp][] = [
      [{ batchSize: 0 }, /^Batch size: /],
      [{ batchSize: null }, /^Batch size: enter a number/],
      [{ learningRate: -1 }, /^Learning rate: /],
      [{ quorum: 1.5 }, /^Quorum: /],
      [{ name: '   ' }, /^Name: /],
      [{ targetAccuracyPercent: 120 }, /^Target accuracy: must be above 0% and at most 100%/],
      [{ localSteps: 2.5 }, /^Local steps: /],
    ];
    for (const [change, message] of cases) {
      const result = toJobSpec({ ...defaultsFor('fashion-mlp'), ...change });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).toMatch(message);
    }
  });
});
