/**
 * The evaluator keeps a bounded number of TF.js models: a coordinator that evaluates many
 * topologies (a sweep's trials) holds at most MODELS_KEPT of them, disposes the rest, and gives
 * the same metrics when an evicted topology comes back.
 */
import { MODEL_PRESETS } from '@gridtab/shared';
import { buildModel, getFlatWeights } from '@gridtab/shared/tf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDataset } from '../datasets/data-spec.ts';
import type { DatasetRecord } from '../storage/store.ts';
import { startTestCoordinator, type TestCoordinator } from '../testing.ts';
import { EVAL_BATCH_ROWS, MODELS_KEPT, TfEvaluator } from './evaluator.ts';
import { initTf, tf } from './tf-node.ts';

/** The MLP preset with another hidden width: a distinct topology, the same number of tensors. */
function mlp(hidden: number): Record<string, unknown> {
  const spec = structuredClone(MODEL_PRESETS['fashion-mlp']) as unknown as {
    config: { layers: { config: { units?: number } }[] };
  };
  spec.config.layers[1].config.units = hidden;
  return spec as unknown as Record<string, unknown>;
}

async function weightsOf(spec: Record<string, unknown>): Promise<Float32Array> {
  const model = await buildModel(spec);
  const flat = await getFlatWeights(model);
  model.dispose();
  return flat;
}

describe('TfEvaluator', () => {
  let co: TestCoordinator;
  let dataset: DatasetRecord;
  let evaluator: TfEvaluator;

  beforeAll(async () => {
    co = await startTestCoordinator();
    dataset = (await resolveDataset(co.store, 'fashion-mnist'))!;
    evaluator = new TfEvaluator(co.blobs);
    await initTf();
  });
  afterAll(async () => {
    evaluator.dispose();
    await co.destroy();
  });

  it('holds at most MODELS_KEPT models, disposing the evicted ones', async () => {
    const widths = Array.from({ length: MODELS_KEPT * 2 }, (_, i) => 8 + i);
    const specs = widths.map(mlp);
    const weights = await Promise.all(specs.map(weightsOf));
    const first: number[] = [];
    for (let i = 0; i < MODELS_KEPT; i++)
      first.push((await evaluator.evaluate(specs[i], weights[i], dataset)).testLoss!);
    const tensorsWhenFull = tf.memory().numTensors;
    for (let i = MODELS_KEPT; i < specs.length; i++) await evaluator.evaluate(specs[i], weights[i], dataset);
    expect(evaluator.held.models).toBe(MODELS_KEPT);
    // Each evicted model's variables were freed: the count is what a full cache held before.
    expect(tf.memory().numTensors).toBe(tensorsWhenFull);
    // An evicted topology is rebuilt and scores its weights exactly as before.
    const again = await evaluator.evaluate(specs[0], weights[0], dataset);
    expect(again.testLoss).toBeCloseTo(first[0], 6);
    expect(again.testAccuracy).toBeGreaterThanOrEqual(0);
  });

  it('runs concurrent evaluations in turn, each on its own model', async () => {
    const specs = [mlp(40), mlp(41), mlp(42), mlp(43), mlp(44), mlp(45)];
    const weights = await Promise.all(specs.map(weightsOf));
    const together = await Promise.all(specs.map((s, i) => evaluator.evaluate(s, weights[i], dataset)));
    const alone = [];
    for (let i = 0; i < specs.length; i++)
      alone.push(await evaluator.evaluate(specs[i], weights[i], dataset));
    expect(together.map((m) => m.testLoss)).toEqual(alone.map((m) => m.testLoss));
    expect(evaluator.held.models).toBe(MODELS_KEPT);
  });

  it('lets the event loop turn between test batches while evaluating a CNN', async () => {
    const spec = MODEL_PRESETS['fashion-cnn'] as unknown as Record<string, unknown>;
    const weights = await weightsOf(spec);
    // Warm: the model and test tensors are built, so what follows is forward passes only.
    const warm = await evaluator.evaluate(spec, weights, dataset);
    // A chain of macrotasks counts the loop's turns until the evaluation resolves. An evaluation
    // that ran its batches back to back (as before) let none run: the loop stood still, and
    // sockets and timers with it.
    let turns = 0;
    let done = false;
    const tick = () => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const again = await evaluator.evaluate(spec, weights, dataset);
    done = true;
    expect(dataset.numTest).toBeGreaterThan(EVAL_BATCH_ROWS);
    expect(turns).toBeGreaterThanOrEqual(Math.ceil(dataset.numTest / EVAL_BATCH_ROWS) - 1);
    // Batching changes nothing in the result.
    expect(again.testLoss).toBeCloseTo(warm.testLoss!, 6);
    expect(again.testAccuracy).toBe(warm.testAccuracy);
  });
});
