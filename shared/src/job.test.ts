import { describe, expect, it } from 'vitest';
import { jobSpecSchema } from './job.ts';
import { MODEL_PRESETS } from './models.ts';

describe('job spec schema', () => {
  const minimal = { name: 'j', model: MODEL_PRESETS['fashion-mlp'], dataset: 'fashion-mnist' };

  it('fills defaults for a minimal spec', () => {
    const spec = jobSpecSchema.parse(minimal);
    expect(spec.strategy).toBe('fedavg');
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
    ]) {
      expect(jobSpecSchema.safeParse(bad).success, JSON.stringify(bad).slice(0, 60)).toBe(false);
    }
  });
});
