/**
 * The two attacks that need more than the delta: label flip runs through the real trainer (a
 * flipped unit trains exactly as if its shard's labels had been rewritten), and "a little is
 * enough" sends mean - z * std of the colluders' pool with the paper's z.
 */
import { encodeShard, imageDataSpec, imageShard, MODEL_PRESETS, type WorkUnit } from '@gridtab/shared';
import { buildModel, getFlatWeights } from '@gridtab/shared/tf';
import { Trainer } from '@gridtab/shared/trainer';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { alieTamper, alieUpdate, alieZ, Collusion, normalQuantile } from './alie.ts';
import { labelFlip } from './attacks.ts';

const unit = (round = 1, jobId = 'j'): WorkUnit => ({
  unitId: `${jobId}.r${round}.u0`,
  leaseId: 'l',
  jobId,
  round,
  baseVersionId: 'v',
  baseWeightsHash: 'h',
  model: MODEL_PRESETS['fashion-mlp'],
  datasetId: 'd',
  data: imageDataSpec('d', [28, 28, 1], 10),
  shardHashes: ['s'],
  batchSize: 8,
  localSteps: 3,
  learningRate: 0.01,
  optimizer: 'sgd',
  seed: 5,
  codec: { name: 'fp32' },
  deadline: 0,
});

const shardWith = (labels: number[]) =>
  encodeShard(
    imageShard({
      count: labels.length,
      rows: 28,
      cols: 28,
      pixels: Uint8Array.from({ length: labels.length * 784 }, (_, i) => (i * 37) % 256),
      labels: Uint8Array.from(labels),
    }),
  );

describe('label flip', () => {
  it('is a permutation that moves every class', () => {
    const map = labelFlip(10);
    expect(Array.from(map)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(new Set(map).size).toBe(10);
    expect(Array.from(map).every((to, from) => to !== from)).toBe(true);
  });

  it('trains the real trainer on the flipped labels', async () => {
    await tf.setBackend('cpu');
    const labels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 3, 5, 7, 9, 2];
    const model = await buildModel(MODEL_PRESETS['fashion-mlp']);
    const base = await getFlatWeights(model);
    model.dispose();
    const trainer = new Trainer();
    const train = (shard: Uint8Array, map?: Int32Array) =>
      trainer.trainUnit(
        unit(),
        base,
        [shard],
        () => {},
        () => false,
        { labelMap: map },
      );
    const honest = await train(shardWith(labels));
    const flipped = await train(shardWith(labels), labelFlip(10));
    const rewritten = await train(shardWith(labels.map((l) => 9 - l)));
    trainer.dispose();
    expect(Array.from(flipped.delta)).toEqual(Array.from(rewritten.delta));
    let diff = 0;
    for (let i = 0; i < base.length; i++) diff += Math.abs(flipped.delta[i] - honest.delta[i]);
    expect(diff).toBeGreaterThan(0);
  });
});

describe('a little is enough', () => {
  it("uses the paper's z_max", () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.96, 3);
    // n = 5 with one attacker: s = floor(3.5) - 1 = 2, z = Phi^-1(3/5).
    expect(alieZ(5, 1)).toBeCloseTo(0.2533, 3);
    // The paper's setting of 50 workers, 24% corrupted: s = 26 - 12 = 14, z = Phi^-1(36/50).
    expect(alieZ(50, 12)).toBeCloseTo(0.5828, 3);
  });

  it('sends mean - z * std per coordinate', () => {
    const pool = [Float32Array.of(1, 0, 5), Float32Array.of(3, 0, 5)];
    expect(Array.from(alieUpdate(pool, 1.5))).toEqual([2 - 1.5 * 1, 0, 5]);
  });

  it('waits for the colluders of its round, and only its round', async () => {
    const collusion = new Collusion();
    const tamper = alieTamper(collusion, { z: 1, want: 3, timeoutMs: 10_000 });
    collusion.deposit(unit(2), Float32Array.of(100)); // another round: ignored
    const sent = tamper(Float32Array.of(1), unit(1));
    collusion.deposit(unit(1), Float32Array.of(2));
    collusion.deposit(unit(1), Float32Array.of(3));
    // Pool 1, 2, 3: mean 2, population std sqrt(2/3).
    expect((await sent)[0]).toBeCloseTo(2 - Math.sqrt(2 / 3), 6);
  });

  it('estimates from what it has when the colluders are late', async () => {
    const tamper = alieTamper(new Collusion(), { z: 1, want: 5, timeoutMs: 50 });
    // Alone, the spread is zero: it sends its own honest delta.
    expect(Array.from(await tamper(Float32Array.of(4, -2), unit()))).toEqual([4, -2]);
  });
});
