/**
 * The trainer lets the event loop turn between steps. On wasm and cpu a step runs synchronously,
 * and the coordinator trains spot-checked units with this trainer: steps run back to back there
 * held its loop (HTTP, sockets, timers) for seconds.
 */
import { encodeShard, imageDataSpec, imageShard, MODEL_PRESETS, type WorkUnit } from '@gridtab/shared';
import { buildModel, getFlatWeights } from '@gridtab/shared/tf';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { syntheticImages } from '../testing.ts';
import { gatherRows, Trainer } from './trainer.ts';

const model = MODEL_PRESETS['fashion-mlp'] as Record<string, unknown>;
const LOCAL_STEPS = 10;

const unit: WorkUnit = {
  unitId: 'j.r1.u0',
  leaseId: 'l-1',
  jobId: 'j',
  round: 1,
  baseVersionId: 'v0',
  baseWeightsHash: 'h',
  model,
  datasetId: 'd',
  data: imageDataSpec('d', [28, 28, 1], 10),
  shardHashes: ['s'],
  batchSize: 16,
  localSteps: LOCAL_STEPS,
  learningRate: 0.002,
  optimizer: 'adam',
  seed: 7,
  codec: { name: 'fp32' },
  deadline: Date.now() + 60_000,
};

describe('Trainer', () => {
  it('lets the event loop turn after every step', async () => {
    await tf.setBackend('cpu');
    const images = syntheticImages(100, 5);
    const shard = encodeShard(imageShard({ count: 100, rows: 28, cols: 28, ...images }));
    const built = await buildModel(model);
    const base = await getFlatWeights(built);
    built.dispose();
    // A chain of macrotasks counts the loop's turns while the unit trains. Yielding only when
    // the loss is read (every fifth step) gave two or three turns for ten steps.
    let turns = 0;
    let done = false;
    const tick = () => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const result = await new Trainer().trainUnit(
      unit,
      base,
      [shard],
      () => {},
      () => false,
    );
    done = true;
    expect(result.delta.length).toBe(base.length);
    expect(turns).toBeGreaterThanOrEqual(LOCAL_STEPS - 1);
  });
});

describe('Trainer, a unit sized to time', () => {
  const shard = () => {
    const images = syntheticImages(100, 5);
    return encodeShard(imageShard({ count: 100, rows: 28, cols: 28, ...images }));
  };
  const baseWeights = async () => {
    const built = await buildModel(model);
    const base = await getFlatWeights(built);
    built.dispose();
    return base;
  };

  it('stops at minSteps once its budget is spent, with the update of a unit of that many steps', async () => {
    await tf.setBackend('cpu');
    const base = await baseWeights();
    const progress: [number, number][] = [];
    const timed = await new Trainer().trainUnit(
      { ...unit, trainBudgetMs: 0, minSteps: 3 },
      base,
      [shard()],
      (done, total) => progress.push([done, total]),
      () => false,
    );
    expect(timed.numSamples).toBe(3 * unit.batchSize);
    expect(progress.at(-1)).toEqual([3, 3]);
    // The coordinator's spot-check replays such a unit as a fixed one of the steps it claims.
    const fixed = await new Trainer().trainUnit(
      { ...unit, localSteps: 3 },
      base,
      [shard()],
      () => {},
      () => false,
    );
    expect(Array.from(timed.delta)).toEqual(Array.from(fixed.delta));
  });

  it('trains localSteps at most, however long its budget', async () => {
    await tf.setBackend('cpu');
    const result = await new Trainer().trainUnit(
      { ...unit, trainBudgetMs: 3_600_000, minSteps: 2 },
      await baseWeights(),
      [shard()],
      () => {},
      () => false,
    );
    expect(result.numSamples).toBe(LOCAL_STEPS * unit.batchSize);
  });
});

describe('gatherRows', () => {
  it('picks rows as tf.gather does along the first axis, repeats included', async () => {
    const values = Float32Array.from({ length: 7 * 6 }, (_, i) => Math.fround(Math.sin(i) * 1000));
    const picks = Int32Array.from([6, 0, 3, 3, 5]);
    const expected = await tf.gather(tf.tensor(values, [7, 2, 3]), tf.tensor1d(picks, 'int32')).data();
    expect(Array.from(gatherRows(values, 6, picks))).toEqual(Array.from(expected));
  });
});
