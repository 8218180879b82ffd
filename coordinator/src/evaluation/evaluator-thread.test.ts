/**
 * The evaluation thread gives exactly the metrics of the evaluator on the event loop, asks for
 * each test shard once (its test sets stay in the thread), fails a bad spec without dying for
 * the next one, and fails what is in flight when closed.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { MODEL_PRESETS } from '@gridtab/shared';
import { buildModel, getFlatWeights } from '@gridtab/shared/tf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDataset } from '../datasets/data-spec.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord } from '../storage/store.ts';
import { startTestCoordinator, type TestCoordinator } from '../testing.ts';
import { TfEvaluator } from './evaluator.ts';
import { EVALUATION_NICE, EvaluatorThread } from './evaluator-thread.ts';
import { initTf } from './tf-node.ts';

const spec = MODEL_PRESETS['fashion-mlp'] as unknown as Record<string, unknown>;

describe('EvaluatorThread', () => {
  let co: TestCoordinator;
  let dataset: DatasetRecord;
  let weights: Float32Array;
  const asked: string[] = [];
  let blobs: Pick<BlobStore, 'get'>;

  beforeAll(async () => {
    co = await startTestCoordinator();
    dataset = (await resolveDataset(co.store, 'fashion-mnist'))!;
    blobs = {
      get: (hash) => {
        asked.push(hash);
        return co.blobs.get(hash);
      },
    };
    await initTf();
    const model = await buildModel(spec);
    weights = await getFlatWeights(model);
    model.dispose();
  });
  afterAll(async () => co.destroy());

  it('scores weights as the evaluator on the loop does, and fetches the test set once', async () => {
    const thread = new EvaluatorThread(blobs);
    const inline = new TfEvaluator(co.blobs);
    try {
      const expected = await inline.evaluate(spec, weights, dataset);
      const before = weights.slice();
      const got = await thread.evaluate(spec, weights, dataset);
      expect(got).toEqual(expected);
      expect(weights).toEqual(before); // the caller's weights are not moved away
      const shardsAsked = asked.length;
      expect(shardsAsked).toBe(dataset.testHashes.length);
      const shifted = weights.map((w) => w * 0.5);
      const [a, b] = await Promise.all([
        thread.evaluate(spec, shifted, dataset),
        inline.evaluate(spec, shifted, dataset),
      ]);
      expect(a).toEqual(b);
      expect(asked.length).toBe(shardsAsked);
      expect(thread.inFlight).toBe(0);
    } finally {
      inline.dispose();
      await thread.close();
    }
  }, 120_000);

  it('fails one bad evaluation and goes on with the next; close fails what is in flight', async () => {
    const thread = new EvaluatorThread(blobs);
    try {
      await expect(thread.evaluate(spec, new Float32Array(3), dataset)).rejects.toThrow();
      expect((await thread.evaluate(spec, weights, dataset)).testAccuracy).toBeGreaterThan(0);
      const missing = { ...dataset, id: 'no-such-version', testHashes: ['0'.repeat(64)] };
      await expect(thread.evaluate(spec, weights, missing)).rejects.toThrow(/missing/);
      // The expectation is attached first: an unhandled rejection ends the process (TF.js's wasm
      // module rethrows them).
      const inFlight = expect(thread.evaluate(spec, weights, dataset)).rejects.toThrow(/closed/);
      await thread.close();
      await inFlight;
    } finally {
      await thread.close();
    }
  }, 120_000);

  it('runs at a lower priority than the rest of the process (Linux: its own nice value)', async () => {
    // Each thread's nice value is field 19 of /proc/self/task/<tid>/stat (after the name in parentheses).
    const niceOf = (tid: string) =>
      Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
    const atEvaluationNice = () =>
      readdirSync('/proc/self/task').filter((t) => niceOf(t) === EVALUATION_NICE);
    const mine = readlinkSync('/proc/thread-self').split('/').pop()!;
    const before = new Set(atEvaluationNice());
    const myNice = niceOf(mine);
    const thread = new EvaluatorThread(blobs);
    try {
      await thread.evaluate(spec, weights, dataset);
      const lowered = atEvaluationNice().filter((t) => !before.has(t));
      expect(lowered.length).toBeGreaterThanOrEqual(1);
      expect(niceOf(mine)).toBe(myNice);
      expect(myNice).not.toBe(EVALUATION_NICE);
    } finally {
      await thread.close();
    }
  });
});
