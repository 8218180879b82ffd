import { jobSpecSchema, MODEL_PRESETS, type ModelPresetName } from '@gridtab/shared';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { defaultsFor, PRESET_LABELS, toJobSpec } from './job-form.ts';

describe('job form', () => {
  it('turns each preset into a spec the coordinator accepts', () => {
    for (const preset of Object.keys(MODEL_PRESETS) as ModelPresetName[]) {
      const result = toJobSpec(defaultsFor(preset));
      expect(result.ok).toBe(true);
      if (result.ok) {
        expect(result.spec.model).toBe(MODEL_PRESETS[preset]);
        expect(jobSpecSchema.safeParse(result.spec).success).toBe(true);
      }
    }
  });

  it('labels each preset with the parameter count TF.js builds', async () => {
    for (const preset of Object.keys(MODEL_PRESETS) as ModelPresetName[]) {
      const model = await tf.models.modelFromJSON({ modelTopology: MODEL_PRESETS[preset] } as never);
      expect(PRESET_LABELS[preset]).toContain(`${model.countParams().toLocaleString('en-US')} parameters`);
      model.dispose();
    }
  });

  it('converts the target accuracy from percent', () => {
    const result = toJobSpec({ ...defaultsFor('fashion-mlp'), targetAccuracyPercent: 85 });
    expect(result.ok && result.spec.stopping?.targetAccuracy).toBe(0.85);
  });

  it('carries the codec and the aggregation rule into the spec', () => {
    const result = toJobSpec({
      ...defaultsFor('fashion-mlp'),
      codec: 'topk',
      topkFraction: 0.05,
      aggregation: 'trimmed-mean',
      trim: 0.1,
    });
    expect(result.ok && result.spec.codec).toEqual({ name: 'topk', fraction: 0.05 });
    expect(result.ok && result.spec.aggregation).toEqual({ rule: 'trimmed-mean', trim: 0.1 });
    const plain = toJobSpec({ ...defaultsFor('fashion-mlp'), codec: 'int8', aggregation: 'median' });
    expect(plain.ok && [plain.spec.codec, plain.spec.aggregation]).toEqual([
      { name: 'int8' },
      { rule: 'median' },
    ]);
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
      [{ codec: 'topk', topkFraction: 0 }, /^Top-k fraction: /],
      [{ codec: 'topk', topkFraction: null }, /^Top-k fraction: /],
      [{ aggregation: 'trimmed-mean', trim: 0.6 }, /^Trim fraction: /],
    ];
    for (const [change, message] of cases) {
      const result = toJobSpec({ ...defaultsFor('fashion-mlp'), ...change });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).toMatch(message);
    }
  });
});
