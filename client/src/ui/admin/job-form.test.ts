import { type DatasetSchema, jobSpecSchema, MODEL_PRESETS, type ModelPresetName } from '@gridtab/shared';
import { buildModel, paramCount } from '@gridtab/shared/tf';
import { describe, expect, it } from 'vitest';
import { defaultsFor, defaultsForDataset, toJobSpec } from './job-form.ts';
import { countParams, presetsFor } from './model-presets.ts';

const schema = (extra: Partial<DatasetSchema>): DatasetSchema => ({
  task: { kind: 'classification', numClasses: 10 },
  inputShape: [28, 28, 1],
  inputDtype: 'uint8',
  featureNames: null,
  categorical: [],
  labelColumn: null,
  classNames: null,
  targetNames: null,
  ...extra,
});
const cars = {
  name: 'cars',
  version: 2,
  schema: schema({
    task: { kind: 'regression', numTargets: 1 },
    inputShape: [9],
    inputDtype: 'float32',
    featureNames: [
      'Cylinders',
      'Displacement',
      'Horsepower',
      'Weight_in_lbs',
      'Acceleration',
      'Year',
      'Origin=USA',
      'Origin=Europe',
      'Origin=Japan',
    ],
    labelColumn: 'Miles_per_Gallon',
    targetNames: ['Miles_per_Gallon'],
  }),
};
type Layers = { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
const lastLayer = (m: unknown) => (m as Layers).config.layers.at(-1)!;

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

  it('converts the target accuracy from percent', () => {
    const result = toJobSpec({ ...defaultsFor('fashion-mlp'), targetAccuracyPercent: 85 });
    expect(result.ok && result.spec.stopping?.targetAccuracy).toBe(0.85);
  });

  it('sizes units to speed only when asked', () => {
    const fixed = toJobSpec(defaultsFor('fashion-mlp'));
    const sized = toJobSpec({ ...defaultsFor('fashion-mlp'), unitSizing: 'speed' });
    expect(fixed.ok && fixed.spec.rounds).toEqual({ unitsPerRound: 3, quorum: 1 });
    expect(sized.ok && jobSpecSchema.parse(sized.spec).rounds.unitSizing).toBe('speed');
    const timed = toJobSpec({ ...defaultsFor('fashion-mlp'), unitSizing: 'time' });
    expect(timed.ok && jobSpecSchema.parse(timed.spec).rounds.unitSizing).toBe('time');
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

  it('offers the Fashion presets only where the shape fits, and an MLP for any dataset', () => {
    expect(presetsFor(schema({})).map((p) => p.id)).toEqual([
      'fashion-mlp',
      'fashion-cnn',
      'fashion-cnn-small',
      'mlp',
      'cnn',
    ]);
    const three = presetsFor(
      schema({ task: { kind: 'classification', numClasses: 3 }, inputShape: [32, 32, 3] }),
    );
    expect(three.map((p) => p.id)).toEqual(['mlp', 'cnn']);
    for (const p of three)
      expect(lastLayer(p.model).config).toMatchObject({ units: 3, activation: 'softmax' });
    expect(presetsFor(cars.schema).map((p) => p.id)).toEqual(['mlp']);
  });

  it('gives a regression schema a linear output as wide as its targets, which TF.js builds', async () => {
    const two = schema({
      task: { kind: 'regression', numTargets: 2 },
      inputShape: [5],
      inputDtype: 'float32',
    });
    for (const target of [cars.schema, two]) {
      const [mlp] = presetsFor(target);
      const width = target.task.kind === 'regression' ? target.task.numTargets : 0;
      expect(lastLayer(mlp.model).config).toMatchObject({ units: width, activation: 'linear' });
      const built = await buildModel(mlp.model);
      expect(built.inputs[0].shape).toEqual([null, ...target.inputShape]);
      expect(built.outputs[0].shape).toEqual([null, width]);
      expect(mlp.params).toBe(paramCount(built));
      built.dispose();
    }
  });

  it('counts parameters as TF.js does for every preset, shipped and generated', async () => {
    const all = [...presetsFor(schema({})), ...presetsFor(schema({ inputShape: [17, 13, 3] }))];
    for (const p of all) {
      const built = await buildModel(p.model);
      expect(countParams(p.model)).toBe(paramCount(built));
      built.dispose();
    }
    expect(countParams(MODEL_PRESETS['fashion-mlp'])).toBe(784 * 128 + 128 + 128 * 10 + 10);
  });

  it('makes a regression job of a dataset version: name@version, its loss and target R², no accuracy target', () => {
    const values = {
      ...defaultsForDataset(cars),
      loss: 'huber' as const,
      targetR2: 0.8,
      targetAccuracyPercent: 90,
    };
    expect(values.task).toBe('regression');
    const result = toJobSpec(values, presetsFor(cars.schema));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.dataset).toBe('cars@2');
    expect(result.spec.hyperparameters?.loss).toBe('huber');
    expect(result.spec.stopping).toEqual({ maxRounds: 30, targetR2: 0.8 });
    expect(lastLayer(result.spec.model).config).toMatchObject({ units: 1, activation: 'linear' });
    expect(jobSpecSchema.safeParse(result.spec).success).toBe(true);
    const refused = toJobSpec({ ...values, targetR2: 2 }, presetsFor(cars.schema));
    expect(!refused.ok && refused.message).toMatch(/^Target R²: /);
    // A preset that is not offered for this dataset (the Fashion MLP on cars) is refused.
    const misfit = toJobSpec({ ...values, preset: 'fashion-mlp' }, presetsFor(cars.schema));
    expect(!misfit.ok && misfit.message).toMatch(/^Model: /);
  });
});
