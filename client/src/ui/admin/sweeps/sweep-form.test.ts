import { describe, expect, it } from 'vitest';
import { EXAMPLE_SWEEP, toSweepSpec, withDataset } from './sweep-form.ts';

describe('sweep form', () => {
  it('accepts the example and resolves the base model preset', () => {
    const r = toSweepSpec(JSON.stringify(EXAMPLE_SWEEP));
    expect(r.ok).toBe(true);
    if (r.ok) expect(typeof r.spec.base.model).toBe('object');
  });

  it('refuses with the code the API would give', () => {
    const bad = { ...EXAMPLE_SWEEP, budget: { maxTrials: 0 } };
    expect(toSweepSpec(JSON.stringify(bad))).toMatchObject({ ok: false, message: /^INVALID_BUDGET: / });
    expect(toSweepSpec('{')).toMatchObject({ ok: false, message: /^BAD_REQUEST: / });
    const unknown = {
      ...EXAMPLE_SWEEP,
      space: { 'hyperparameters.momentum': { type: 'choice', values: [1] } },
    };
    expect(toSweepSpec(JSON.stringify(unknown))).toMatchObject({
      ok: false,
      message: /^UNKNOWN_PARAMETER: /,
    });
  });
});

describe('sweep form: dataset', () => {
  const cars = {
    name: 'cars',
    version: 3,
    schema: {
      task: { kind: 'regression' as const, numTargets: 1 },
      inputShape: [9],
      inputDtype: 'float32' as const,
      featureNames: null,
      categorical: [],
      labelColumn: 'Miles_per_Gallon',
      classNames: null,
      targetNames: ['Miles_per_Gallon'],
    },
  };

  it('points the sweep at a regression version: its MLP, the test loss as the metric, a loss; the schema accepts it', () => {
    const text = withDataset(JSON.stringify(EXAMPLE_SWEEP), cars);
    const r = toSweepSpec(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.spec.base.dataset).toBe('cars@3');
    expect(r.spec.metric).toBe('testLoss');
    expect(r.spec.base.hyperparameters?.loss).toBe('mse');
    const layers = (
      r.spec.base.model as unknown as { config: { layers: { config: Record<string, unknown> }[] } }
    ).config.layers;
    expect(layers.at(-1)!.config).toMatchObject({ units: 1, activation: 'linear' });
  });

  it('keeps the Fashion preset by name where the shape fits, and leaves non-JSON text alone', () => {
    const fashion = {
      ...cars,
      name: 'fashion-mnist',
      version: 1,
      schema: {
        ...cars.schema,
        task: { kind: 'classification' as const, numClasses: 10 },
        inputShape: [28, 28, 1],
      },
    };
    const parsed = JSON.parse(withDataset(JSON.stringify(EXAMPLE_SWEEP), fashion));
    expect([parsed.base.model, parsed.base.dataset, parsed.metric]).toEqual([
      'fashion-mlp',
      'fashion-mnist@1',
      'testAccuracy',
    ]);
    expect(withDataset('{ nope', cars)).toBe('{ nope');
  });
});
