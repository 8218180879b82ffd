import { describe, expect, it } from 'vitest';
import { jobSpecSchema, strategyOf } from './job.ts';
import { MODEL_PRESETS } from './models.ts';

describe('job spec schema', () => {
  const minimal = { name: 'j', model: MODEL_PRESETS['fashion-mlp'], dataset: 'fashion-mnist' };

  it('fills defaults for a minimal spec', () => {
    const spec = jobSpecSchema.parse(minimal);
    expect(spec.strategy).toEqual({ name: 'fedavg' });
    expect(spec.hyperparameters.batchSize).toBeGreaterThan(0);
    expect(spec.rounds.quorum).toBe(1);
    expect(spec.stopping.maxRounds).toBeGreaterThan(0);
    expect(spec.codec).toEqual({ name: 'fp32' });
    expect(spec.aggregation).toEqual({ rule: 'mean' });
  });

  it('takes a codec and a robust aggregation rule, with their defaults', () => {
    const spec = jobSpecSchema.parse({
      ...minimal,
      codec: { name: 'topk', fraction: 0.02 },
      aggregation: { rule: 'trimmed-mean' },
    });
    expect(spec.codec).toEqual({ name: 'topk', fraction: 0.02 });
    expect(spec.aggregation).toEqual({ rule: 'trimmed-mean', trim: 0.2 });
  });

  it('refuses unknown fields, bad numbers and unknown strategies', () => {
    for (const bad of [
      { ...minimal, surprise: true },
      { ...minimal, hyperparameters: { learningRate: 0 } },
      { ...minimal, hyperparameters: { batchSize: 1.5 } },
      { ...minimal, rounds: { quorum: 0 } },
      { ...minimal, stopping: { targetAccuracy: 2 } },
      { ...minimal, strategy: 'gossip' },
      { ...minimal, model: { class_name: 'Sequential' } },
      { ...minimal, name: '' },
      { ...minimal, maxUpdateNorm: Number.POSITIVE_INFINITY },
      { ...minimal, codec: { name: 'gzip' } },
      { ...minimal, codec: { name: 'topk', fraction: 2 } },
      { ...minimal, aggregation: { rule: 'krum' } },
      { ...minimal, aggregation: { rule: 'trimmed-mean', trim: 0.5 } },
      { ...minimal, strategy: { name: 'buffered', bufferSize: 0 } },
      { ...minimal, strategy: { name: 'buffered', maxStaleness: -1 } },
      { ...minimal, strategy: { name: 'diloco', outerMomentum: 1 } },
      { ...minimal, strategy: { name: 'diloco', outerLearningRate: 0 } },
      { ...minimal, strategy: { name: 'fedavg', bufferSize: 4 } },
      { ...minimal, rounds: { leaseMargin: 0.5 } },
      { ...minimal, rounds: { unitSizing: 'fast' } },
    ]) {
      expect(jobSpecSchema.safeParse(bad).success, JSON.stringify(bad).slice(0, 60)).toBe(false);
    }
  });

  it('takes a strategy by name or with parameters, and reads stored names', () => {
    expect(jobSpecSchema.parse({ ...minimal, strategy: 'buffered' }).strategy).toEqual({
      name: 'buffered',
      bufferSize: 4,
      maxStaleness: 4,
      stalenessExponent: 0.5,
    });
    const diloco = jobSpecSchema.parse({ ...minimal, strategy: { name: 'diloco', outerMomentum: 0.5 } });
    expect(diloco.strategy).toEqual({
      name: 'diloco',
      outerLearningRate: 0.7,
      outerMomentum: 0.5,
      weightDecay: 0.01,
    });
    expect(strategyOf({ strategy: 'fedavg' })).toEqual({ name: 'fedavg' });
    expect(strategyOf({})).toEqual({ name: 'fedavg' });
  });
});
