import { describe, expect, it } from 'vitest';
import { MODEL_PRESETS } from './models.ts';
import {
  applyParams,
  ashaResource,
  ashaRungs,
  gridPoint,
  gridSize,
  randomPoint,
  type SweepSpecInput,
  sweepErrorCode,
  sweepSpecSchema,
  trialCount,
} from './sweep.ts';

const base = { name: 'b', model: MODEL_PRESETS['fashion-mlp'], dataset: 'fashion-mnist' };
const valid: SweepSpecInput = {
  name: 's',
  base,
  space: {
    'hyperparameters.learningRate': { type: 'log', min: 0.0001, max: 0.01, count: 3 },
    'hyperparameters.batchSize': { type: 'choice', values: [32, 64] },
  },
  method: { name: 'grid' },
  budget: { maxTrials: 10 },
  metric: 'testAccuracy',
};

function codeOf(spec: unknown) {
  const r = sweepSpecSchema.safeParse(spec);
  return r.success ? 'OK' : sweepErrorCode(r.error.issues);
}

describe('sweep spec schema', () => {
  it('accepts a grid sweep and enumerates its points, first parameter slowest', () => {
    const s = sweepSpecSchema.parse(valid);
    expect(gridSize(s.space)).toBe(6);
    expect(trialCount(s)).toBe(6);
    expect([0, 1, 2, 5].map((i) => gridPoint(s.space, i))).toEqual([
      { 'hyperparameters.learningRate': 0.0001, 'hyperparameters.batchSize': 32 },
      { 'hyperparameters.learningRate': 0.0001, 'hyperparameters.batchSize': 64 },
      { 'hyperparameters.learningRate': 0.001, 'hyperparameters.batchSize': 32 },
      { 'hyperparameters.learningRate': 0.01, 'hyperparameters.batchSize': 64 },
    ]);
  });

  it('draws the same random points for the same seed, inside the ranges', () => {
    const space = sweepSpecSchema.parse({
      ...valid,
      space: {
        'hyperparameters.learningRate': { type: 'log', min: 0.0001, max: 0.01 },
        'hyperparameters.localSteps': { type: 'int', min: 5, max: 20, step: 5 },
        'rounds.quorum': { type: 'uniform', min: 0.5, max: 1 },
      },
      method: { name: 'random', seed: 7 },
    }).space;
    const a = Array.from({ length: 20 }, (_, i) => randomPoint(space, 7, i));
    expect(Array.from({ length: 20 }, (_, i) => randomPoint(space, 7, i))).toEqual(a);
    expect(randomPoint(space, 8, 0)).not.toEqual(a[0]);
    for (const p of a) {
      expect(p['hyperparameters.learningRate']).toBeGreaterThanOrEqual(0.0001);
      expect(p['hyperparameters.learningRate']).toBeLessThanOrEqual(0.01);
      expect([5, 10, 15, 20]).toContain(p['hyperparameters.localSteps']);
      expect(p['rounds.quorum']).toBeGreaterThanOrEqual(0.5);
    }
    expect(new Set(a.map((p) => p['hyperparameters.localSteps'])).size).toBeGreaterThan(1);
  });

  it('writes parameters at their paths and resolves model preset names', () => {
    const spec = applyParams(sweepSpecSchema.parse(valid).base, {
      'hyperparameters.batchSize': 8,
      model: 'fashion-cnn',
    });
    expect(spec.hyperparameters.batchSize).toBe(8);
    expect(spec.model).toEqual(MODEL_PRESETS['fashion-cnn']);
  });

  it('names what is wrong with a bad sweep', () => {
    const space = (p: unknown) => ({ ...valid, space: { 'hyperparameters.learningRate': p } });
    const cases: [string, unknown][] = [
      ['INVALID_SEARCH_SPACE', { ...valid, space: {} }],
      ['INVALID_SEARCH_SPACE', space({ type: 'uniform', min: 0.01, max: 0.001, step: 0.001 })],
      ['INVALID_SEARCH_SPACE', space({ type: 'uniform', min: 0.001, max: 0.001, step: 0.001 })],
      ['INVALID_SEARCH_SPACE', space({ type: 'uniform', min: 0.001, max: Number.POSITIVE_INFINITY })],
      ['INVALID_SEARCH_SPACE', space({ type: 'choice', values: [] })],
      ['INVALID_SEARCH_SPACE', space({ type: 'uniform', min: 0.001, max: 0.01 })], // grid, no step
      ['INVALID_SEARCH_SPACE', space({ type: 'log', min: 0, max: 0.01, count: 3 })],
      ['INVALID_SEARCH_SPACE', space({ type: 'choice', values: [0.001, 50] })], // learningRate max is 10
      [
        'INVALID_SEARCH_SPACE',
        { ...valid, space: { model: { type: 'choice', values: ['no-such-preset'] } } },
      ],
      [
        'UNKNOWN_PARAMETER',
        { ...valid, space: { 'hyperparameters.momentum': { type: 'choice', values: [1] } } },
      ],
      ['UNKNOWN_PARAMETER', { ...valid, space: { name: { type: 'choice', values: ['x'] } } }],
      ['INVALID_BUDGET', { ...valid, budget: { maxTrials: 0 } }],
      ['INVALID_BUDGET', { ...valid, budget: { maxSamples: 0 } }],
      ['INVALID_BUDGET', { ...valid, budget: {} }],
      ['INVALID_BUDGET', { ...valid, method: { name: 'random', seed: 1 }, budget: { maxSamples: 1000 } }],
      ['UNKNOWN_METRIC', { ...valid, metric: 'f1' }],
      ['BAD_REQUEST', { ...valid, method: { name: 'asha', rungs: [2, 1], eta: 2 } }],
      ['BAD_REQUEST', { ...valid, method: { name: 'asha', rungs: [40], eta: 2 } }], // maxRounds 30
      ['INVALID_BUDGET', { ...valid, budget: { maxDeviceSeconds: 0 } }],
      ['BAD_REQUEST', { ...valid, method: { name: 'asha', eta: 2 } }], // neither minSamples nor rungs
      ['BAD_REQUEST', { ...valid, method: { name: 'asha', resource: 'samples', rungs: [2], eta: 2 } }],
      ['BAD_REQUEST', { ...valid, method: { name: 'asha', resource: 'rounds', minSamples: 100, eta: 2 } }],
      ['BAD_REQUEST', { ...valid, method: { name: 'asha', minSamples: 1e11, rungCount: 10, eta: 10 } }],
    ];
    expect(cases.map(([, spec]) => codeOf(spec))).toEqual(cases.map(([code]) => code));
    expect(codeOf(valid)).toBe('OK');
  });

  it('puts ASHA rungs in samples by default and in rounds when rungs are given (stored sweeps too)', () => {
    expect(ashaResource({})).toBe('samples'); // minSamples alone
    expect(ashaResource({ rungs: [1, 3] })).toBe('rounds');
    expect(ashaRungs({ minSamples: 1000, rungCount: 3, eta: 3 })).toEqual([1000, 3000, 9000]);
    expect(ashaRungs({ minSamples: 500, eta: 2 })).toEqual([500, 1000]); // DEFAULT_RUNG_COUNT
    expect(ashaRungs({ rungs: [1, 3], eta: 2 })).toEqual([1, 3]);
  });
});
