/**
 * The next unit's samples are made into tensors while the tab waits between units: the unit
 * that trains those shards gets them ready, one that trains others gets its own bytes, and
 * prepared tensors that go unused are disposed.
 */
import { encodeShard, imageDataSpec, imageShard, MODEL_PRESETS, type WorkUnit } from '@gridtab/shared';
import { syntheticImages } from '@gridtab/shared/testing';
import type { UnitSamples } from '@gridtab/shared/trainer';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UnitTraining } from './training.ts';

const shardOf = (seed: number) =>
  encodeShard(imageShard({ count: 20, rows: 28, cols: 28, ...syntheticImages(20, seed) }));

const unitOf = (n: number, shardHashes: string[], prefetchShardHashes?: string[]): WorkUnit => ({
  unitId: `j.r${n}.u0`,
  leaseId: `l-${n}`,
  jobId: 'j',
  round: n,
  baseVersionId: `v${n}`,
  baseWeightsHash: 'w',
  model: MODEL_PRESETS['fashion-mlp'] as Record<string, unknown>,
  datasetId: 'd',
  data: imageDataSpec('d', [28, 28, 1], 10),
  shardHashes,
  batchSize: 8,
  localSteps: 2,
  learningRate: 0.001,
  optimizer: 'adam',
  seed: n,
  codec: { name: 'fp32' },
  deadline: Date.now() + 60_000,
  ...(prefetchShardHashes ? { prefetchShardHashes } : {}),
});

function setup() {
  const shards = new Map([
    ['a', shardOf(1)],
    ['b', shardOf(2)],
    ['c', shardOf(3)],
  ]);
  const gets: string[] = [];
  const got: ('bytes' | 'samples')[] = [];
  const training = new UnitTraining({
    fetcher: {
      get: async (kind, hash) => {
        gets.push(`${kind}:${hash}`);
        return kind === 'weights' ? new Uint8Array(4) : shards.get(hash)!;
      },
    },
    trainer: {
      // Records what it was handed and, like the real trainer, disposes samples it was given.
      trainUnit: async (_unit, _base, data) => {
        if (Array.isArray(data)) got.push('bytes');
        else {
          got.push('samples');
          expect((data as UnitSamples).x.shape).toEqual([40, 28, 28, 1]);
          tf.dispose([data.x, data.y]);
        }
        return { delta: new Float32Array(1), numSamples: 16, meanLoss: 1, trainMs: 1 };
      },
    },
    modelScores: {
      read: async () => null,
      measure: async () => null,
      forget: async () => {},
      observe: async () => {},
    },
    state: () => ({ backends: [], chosenBackend: 'cpu', phase: 'idle' }),
    set: () => {},
    keep: async () => {},
    stopped: () => false,
    log: () => {},
  });
  const plan = { backend: 'cpu' as const, archKey: 'k', measured: true };
  return { training, gets, got, plan };
}

describe('UnitTraining: the next unit’s samples, made ready between units', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('hands the unit that trains the hinted shards its samples ready, without reading the shards again', async () => {
    const { training, gets, got, plan } = setup();
    await training.train(unitOf(1, ['a', 'b'], ['b', 'c']), plan, null);
    const afterFirst = gets.length;
    await training.train(unitOf(2, ['b', 'c']), plan, null);
    expect(got).toEqual(['bytes', 'samples']);
    // The hinted shards were read once, when the first unit ended; the second read only weights.
    expect(gets.slice(afterFirst)).toEqual(['weights:w']);
    expect(gets.filter((g) => g === 'shard:c')).toHaveLength(1);
  });

  it('gives a unit that trains other shards its own bytes, and disposes what was prepared', async () => {
    const { training, got, plan } = setup();
    const before = tf.memory().numTensors;
    await training.train(unitOf(1, ['a'], ['b', 'c']), plan, null);
    await training.train(unitOf(2, ['a', 'c']), plan, null);
    expect(got).toEqual(['bytes', 'bytes']);
    await new Promise((r) => setTimeout(r, 0));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('disposes prepared samples when the tab stops', async () => {
    const { training, plan } = setup();
    const before = tf.memory().numTensors;
    await training.train(unitOf(1, ['a'], ['b', 'c']), plan, null);
    await new Promise((r) => setTimeout(r, 0));
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    training.dropPrepared();
    await new Promise((r) => setTimeout(r, 0));
    expect(tf.memory().numTensors).toBe(before);
  });
});
