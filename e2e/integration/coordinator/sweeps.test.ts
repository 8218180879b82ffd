/**
 * Sweeps end to end: a coordinator in this process, Node contributors running the real runtime
 * (wasm) on the synthetic dataset, sweeps created and read over HTTP. One trial of the grid
 * sweep diverges (learning rate 10: its updates are refused as too large) and is recorded as
 * failed while the sweep goes on.
 */

import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import { createCoordinator, type RunningCoordinator } from '@gridtab/coordinator';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '@gridtab/coordinator/testing';
import {
  MODEL_PRESETS,
  randomPoint,
  type SweepSpecInput,
  type SweepView,
  sweepSpecSchema,
} from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';

const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
const base = {
  ...TEST_JOB,
  rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 },
  stopping: { maxRounds: 2 },
};

async function post(co: RunningCoordinator, path: string, body: unknown) {
  const res = await fetch(`${co.url}/api${path}`, {
    method: 'POST',
    headers: ADMIN,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function get(co: RunningCoordinator, id: string): Promise<SweepView> {
  return (await fetch(`${co.url}/api/sweeps/${id}`)).json();
}

async function finished(co: RunningCoordinator, id: string, seen?: (s: SweepView) => void) {
  await expect
    .poll(
      async () => {
        const s = await get(co, id);
        seen?.(s);
        return s.status;
      },
      { timeout: 120_000, interval: 250 },
    )
    .toBe('completed');
  return get(co, id);
}

describe('sweeps', () => {
  let co: TestCoordinator | null = null;
  let contributors: Contributor[] = [];
  const contribute = async (n: number) => {
    contributors = Array.from({ length: n }, () =>
      createNodeContributor({ coordinatorUrl: co!.url, benchmarkMs: 100, log: () => {} }),
    );
    await Promise.all(contributors.map((c) => c.start()));
  };
  afterEach(async () => {
    for (const c of contributors) await c.stop();
    contributors = [];
    await co?.destroy();
    co = null;
  });

  it('runs a grid, records the diverging trial as failed, promotes the best and re-runs it', async () => {
    co = await startTestCoordinator();
    const spec: SweepSpecInput = {
      name: 'grid lr',
      // Updates of lr 0.003 are far below this norm; lr 10 (Adam's first step moves every weight
      // by the learning rate) far above: that trial's updates are refused, as a blown-up one's.
      base: { ...base, maxUpdateNorm: 100 },
      space: { 'hyperparameters.learningRate': { type: 'choice', values: [0.003, 10, 0.0003] } },
      method: { name: 'grid' },
      budget: { maxTrials: 10 },
      metric: 'testAccuracy',
      concurrency: 2,
    };
    const created = await post(co, '/sweeps', spec);
    expect(created.status).toBe(201);
    await contribute(2);
    const sweep = await finished(co, created.body.id);
    const [good, diverged, slow] = sweep.trials!;
    expect(sweep.trials!.map((t) => t.params['hyperparameters.learningRate'])).toEqual([0.003, 10, 0.0003]);
    expect(diverged).toMatchObject({ status: 'failed', curve: [] });
    expect(diverged.error).toMatch(/diverged/);
    for (const t of [good, slow]) {
      expect(t.status).toBe('completed');
      expect(t.curve.map((p) => p.round)).toEqual([1, 2]);
      expect(t.samples).toBe(2 * 2 * 32 * 10);
      expect(t.repro).toMatchObject({
        seed: 1,
        datasetId: 'fashion-mnist@1',
        codeVersion: expect.any(String),
      });
      expect(t.repro!.shardHashes.length).toBeGreaterThan(0);
    }
    expect(sweep.best?.trialId).toBe(good.id); // 0.003 learns far faster than 0.0003 in two rounds
    expect(sweep.best?.value).toBeGreaterThan(0.5);
    expect(sweep.samples).toBe(good.samples + slow.samples);

    // Trials are no models, not even after the start-up backfill; only the published one becomes one.
    const trialJobs = sweep.trials!.map((t) => t.jobId!);
    await co.registry.backfill();
    for (const id of trialJobs) expect(await co.store.registry.getModelByJob(id)).toBeNull();
    // A store from before this rule holds a model per trial: it stays, and keeps serving.
    await co.store.registry.insertModel({
      name: 'grid-lr-2',
      jobId: slow.jobId,
      autoPromote: null,
      createdAt: new Date().toISOString(),
    });
    expect((await co.registry.versions('grid-lr-2')).length).toBe(slow.curve.length + 1);

    const promoted = await post(co, `/sweeps/${sweep.id}/promote`, { alias: 'production' });
    expect(promoted).toMatchObject({
      status: 200,
      body: { model: 'grid-lr', versionId: sweep.best!.versionId },
    });
    const alias = await (await fetch(`${co.url}/api/models/grid-lr/aliases/production`)).json();
    expect(alias.versionId).toBe(sweep.best!.versionId);
    expect((await co.store.registry.getModelByJob(good.jobId!))?.name).toBe('grid-lr');
    expect((await co.store.registry.getModelByJob(diverged.jobId!))?.name).toBeUndefined();
    expect((await co.registry.listModels()).map((m) => m.name).sort()).toEqual(['grid-lr', 'grid-lr-2']);

    // Re-run the slow trial (not at 100% yet, so there is something to compare): same initial
    // weights, seed, shards and spec, so the same result up to the order in which FedAvg sums a
    // round's updates (float32 rounding): accuracy within 0.5 points, loss within 0.1%. (Seen
    // here: the same loss to the last digit.)
    const rerun = await post(co, `/sweeps/${sweep.id}/trials/${slow.id}/rerun`, {});
    expect(rerun.status).toBe(201);
    await expect
      .poll(async () => (await co!.store.getJob(rerun.body.jobId))?.status, {
        timeout: 60_000,
        interval: 250,
      })
      .toBe('completed');
    const again = (await co.store.listVersions(rerun.body.jobId)).at(-1)!;
    const first = slow.curve.at(-1)!;
    expect(again.round).toBe(first.round);
    expect(Math.abs(again.metrics.testAccuracy! - first.testAccuracy!)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(again.metrics.testLoss! / first.testLoss! - 1)).toBeLessThanOrEqual(1e-3);
    expect((await get(co, sweep.id)).trials![2].reruns).toEqual([rerun.body.jobId]);
    await co.registry.backfill();
    expect(await co.store.registry.getModelByJob(rerun.body.jobId)).toBeNull();
  });

  it('runs seeded random trials, at most `concurrency` at a time', async () => {
    co = await startTestCoordinator();
    const spec: SweepSpecInput = {
      name: 'random',
      base: { ...base, stopping: { maxRounds: 1 } },
      space: {
        'hyperparameters.learningRate': { type: 'log', min: 0.001, max: 0.01 },
        'hyperparameters.localSteps': { type: 'int', min: 5, max: 10 },
      },
      method: { name: 'random', seed: 42 },
      budget: { maxTrials: 3 },
      metric: 'testLoss',
      concurrency: 2,
    };
    const created = await post(co, '/sweeps', spec);
    expect(created.status).toBe(201);
    await contribute(2);
    let mostRunning = 0;
    const sweep = await finished(co, created.body.id, (s) => {
      mostRunning = Math.max(mostRunning, s.trials!.filter((t) => t.status === 'running').length);
    });
    const space = sweepSpecSchema.parse(spec).space;
    expect(sweep.trials!.map((t) => t.params)).toEqual([0, 1, 2].map((i) => randomPoint(space, 42, i)));
    expect(sweep.trials!.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    expect(mostRunning).toBeLessThanOrEqual(2);
    const losses = sweep.trials!.map((t) => t.best!.value);
    expect(sweep.best?.value).toBe(Math.min(...losses));
  });

  it('ASHA stops the worse half at the rung and runs the rest to the end', async () => {
    co = await startTestCoordinator();
    const spec: SweepSpecInput = {
      name: 'asha',
      base: { ...base, stopping: { maxRounds: 3 } },
      space: { 'hyperparameters.learningRate': { type: 'choice', values: [0.00001, 0.003, 0.00003, 0.001] } },
      method: { name: 'asha', sampler: 'grid', rungs: [1], eta: 2 },
      budget: { maxTrials: 4 },
      metric: 'testAccuracy',
      concurrency: 4,
    };
    // The jobs held at the rung (waiting for the rung's decision), seen where the scheduler asks:
    // a poll of the sweep's view catches a wait only if it outlasts the poll's interval, and
    // rounds got short enough (2026-12-08) that it sometimes did not.
    const held = new Set<string>();
    const sweeps = co.sweeps!;
    const holdAfter = sweeps.holdAfter.bind(sweeps);
    sweeps.holdAfter = (jobId, round, samples) => {
      const hold = holdAfter(jobId, round, samples);
      void Promise.resolve(hold).then((h) => h && held.add(jobId));
      return hold;
    };
    const created = await post(co, '/sweeps', spec);
    expect(created.status).toBe(201);
    await contribute(2);
    const sweep = await finished(co, created.body.id);
    const trials = sweep.trials!;
    // Every trial reached the rung and waited there for its decision.
    expect([...held].sort()).toEqual(trials.map((t) => t.jobId!).sort());
    const atRung = trials.map((t) => t.curve[0].testAccuracy!);
    const top2 = [...atRung].sort((a, b) => b - a).slice(0, 2);
    for (const [i, t] of trials.entries()) {
      if (top2.includes(atRung[i])) {
        expect(t).toMatchObject({ status: 'completed', rung: 1 });
        expect(t.curve.map((p) => p.round)).toEqual([1, 2, 3]);
      } else {
        expect(t).toMatchObject({ status: 'stopped', rung: 0 });
        expect(t.error).toMatch(/cut at rung 1/);
        expect(t.curve.map((p) => p.round)).toEqual([1]);
        expect((await co.store.getJob(t.jobId!))?.status).toBe('cancelled');
      }
    }
    // 4 trials x 1 round + 2 x 2 more rounds, against 4 x 3 rounds without early stopping.
    expect(sweep.samples).toBe(8 * 2 * 320);
  });

  it('ASHA in samples compares trials with different units per round at equal samples', async () => {
    co = await startTestCoordinator();
    // localSteps 10 trains 2 x 320 = 640 samples a round, localSteps 20 trains 1280: the rung at
    // 1280 samples is round 2 of the first and round 1 of the second; rounds would compare the
    // second at twice the work.
    const spec: SweepSpecInput = {
      name: 'asha samples',
      base: { ...base, stopping: { maxRounds: 3 } },
      space: { 'hyperparameters.localSteps': { type: 'choice', values: [10, 20] } },
      method: { name: 'asha', sampler: 'grid', minSamples: 1280, rungCount: 1, eta: 2 },
      budget: { maxTrials: 2 },
      metric: 'testAccuracy',
      concurrency: 2,
    };
    const created = await post(co, '/sweeps', spec);
    expect(created.status).toBe(201);
    expect(created.body.method).toMatchObject({ minSamples: 1280, rungCount: 1 });
    await contribute(2);
    const sweep = await finished(co, created.body.id);
    const [small, big] = sweep.trials!;
    // Each trial's rung version is the one at 1280 samples: round 2 of the small, round 1 of the big.
    const atRung = [small.curve[1], big.curve[0]];
    expect(atRung.map((p) => [p.round, p.samples])).toEqual([
      [2, 1280],
      [1, 1280],
    ]);
    const winner = atRung[0].testAccuracy! >= atRung[1].testAccuracy! ? 0 : 1;
    const [kept, cut] = winner === 0 ? [small, big] : [big, small];
    expect(kept).toMatchObject({ status: 'completed', rung: 1 });
    expect(kept.curve.map((p) => p.round)).toEqual([1, 2, 3]);
    expect(cut).toMatchObject({ status: 'stopped', rung: 0 });
    expect(cut.error).toMatch(/cut at rung 1 \(1280 samples\)/);
    // The cut trial trained exactly to the rung and no further.
    expect(cut.samples).toBe(1280);
    expect((await co.store.getJob(cut.jobId!))?.status).toBe('cancelled');
    // Work, not rounds: samples and device time of every trial (the usage meter's).
    expect(sweep.samples).toBe(kept.samples + 1280);
    for (const t of sweep.trials!) expect(t.deviceSeconds).toBeGreaterThan(0);
    expect(sweep.deviceSeconds).toBeCloseTo(small.deviceSeconds! + big.deviceSeconds!, 9);
    // Whether the big trial is seen 'waiting' at its rung depends on polling catching a window
    // that can be shorter than the poll interval, so it is not asserted here; the rung versions
    // above prove the comparison happened at equal samples.
  });

  it('stops when the sample budget is spent: the running trial stopped, the rest never started', async () => {
    co = await startTestCoordinator();
    const spec: SweepSpecInput = {
      name: 'budget',
      base: { ...base, stopping: { maxRounds: 5 } },
      space: { 'hyperparameters.learningRate': { type: 'choice', values: [0.003, 0.001, 0.0003] } },
      method: { name: 'grid' },
      budget: { maxSamples: 2 * 320 }, // one round of one trial
      metric: 'testAccuracy',
      concurrency: 1,
    };
    const { body } = await post(co, '/sweeps', spec);
    await contribute(1);
    const sweep = await finished(co, body.id);
    expect(sweep.trials!.map((t) => [t.status, t.curve.length])).toEqual([
      ['stopped', 1],
      ['cancelled', 0],
      ['cancelled', 0],
    ]);
    expect(sweep.trials![0].error).toMatch(/budget/);
    expect((await co.store.getJob(sweep.trials![0].jobId!))?.status).toBe('cancelled');
    expect(sweep.samples).toBe(640);
  });

  it('continues a sweep after a restart', async () => {
    co = await startTestCoordinator();
    const spec: SweepSpecInput = {
      name: 'restart',
      base,
      space: { 'hyperparameters.learningRate': { type: 'choice', values: [0.003, 0.001] } },
      method: { name: 'grid' },
      budget: { maxTrials: 2 },
      metric: 'testAccuracy',
      concurrency: 1,
    };
    const { body } = await post(co, '/sweeps', spec);
    await contribute(1);
    await expect
      .poll(async () => (await get(co!, body.id)).trials![0].curve.length, { timeout: 60_000, interval: 100 })
      .toBe(1);
    for (const c of contributors) await c.stop();
    await co.close();
    const again = await createCoordinator({ ...co.config }, { log: () => {} });
    try {
      contributors = [createNodeContributor({ coordinatorUrl: again.url, benchmarkMs: 100, log: () => {} })];
      await contributors[0].start();
      const sweep = await finished(again, body.id);
      expect(sweep.trials!.map((t) => t.status)).toEqual(['completed', 'completed']);
    } finally {
      for (const c of contributors) await c.stop();
      contributors = [];
      await again.close();
      co = { ...co, destroy: async () => {} } as TestCoordinator;
    }
  });

  it('refuses bad sweeps with a code and stores or starts nothing', async () => {
    co = await startTestCoordinator();
    const valid: SweepSpecInput = {
      name: 'bad',
      base,
      space: { 'hyperparameters.learningRate': { type: 'choice', values: [0.001] } },
      method: { name: 'grid' },
      budget: { maxTrials: 2 },
      metric: 'testAccuracy',
    };
    const broken = structuredClone(MODEL_PRESETS['fashion-mlp']) as unknown as {
      config: { layers: { config: object }[] };
    };
    const last = broken.config.layers.at(-1)!;
    last.config = { ...last.config, units: 7 }; // 7 outputs; the dataset has 10 classes
    const lr = (p: unknown) => ({ ...valid, space: { 'hyperparameters.learningRate': p } });
    const cases: [string, unknown][] = [
      ['INVALID_SEARCH_SPACE', { ...valid, space: {} }],
      ['INVALID_SEARCH_SPACE', lr({ type: 'uniform', min: 0.01, max: 0.001, step: 0.001 })],
      ['INVALID_SEARCH_SPACE', lr({ type: 'choice', values: [] })],
      ['INVALID_SEARCH_SPACE', lr({ type: 'uniform', min: 0.001, max: 0.01 })],
      ['INVALID_BUDGET', { ...valid, budget: { maxTrials: 0 } }],
      ['UNKNOWN_METRIC', { ...valid, metric: 'accuracy' }],
      [
        'UNKNOWN_PARAMETER',
        { ...valid, space: { 'hyperparameters.dropout': { type: 'choice', values: [0.1] } } },
      ],
      [
        'DATASET_MODEL_MISMATCH',
        { ...valid, space: { model: { type: 'choice', values: ['fashion-mlp', broken] } } },
      ],
      ['UNKNOWN_DATASET', { ...valid, base: { ...base, dataset: 'cifar-10' } }],
    ];
    const answers = [];
    for (const [, body] of cases) {
      const res = await post(co, '/sweeps', body);
      answers.push([res.status, res.body.error.code]);
    }
    expect(answers).toEqual(cases.map(([code]) => [400, code]));
    expect(await co.store.sweeps.listSweeps()).toEqual([]);
    expect(await co.store.listJobs()).toEqual([]);
  });
});
