/**
 * Resume after a reload: the trainer continues a checkpointed unit on exactly the batches it
 * would have trained, and a contributor that is closed mid-unit and started again on the same
 * cache and identity (a reloaded tab) finishes that unit under its lease, with its top-k residual.
 */
import { createHash } from 'node:crypto';
import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import {
  addJob,
  startTestCoordinator,
  syntheticImages,
  type TestCoordinator,
} from '@gridtab/coordinator/testing';
import { encodeShard, imageDataSpec, imageShard, MODEL_PRESETS, type WorkUnit } from '@gridtab/shared';
import { buildModel, getFlatWeights } from '@gridtab/shared/tf';
import { Aborted, Trainer, type UnitCheckpoint } from '@gridtab/shared/trainer';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCache } from '../../../client/src/runtime/cache.ts';
import { loadSavedUnit, RESUME_WITHIN_MS, type SavedUnit } from '../../../client/src/runtime/resume.ts';

const model = MODEL_PRESETS['fashion-mlp'] as Record<string, unknown>;

function unitOf(extra: Partial<WorkUnit> = {}): WorkUnit {
  return {
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
    batchSize: 32,
    localSteps: 23,
    learningRate: 0.002,
    optimizer: 'adamw',
    weightDecay: 0.01,
    seed: 42,
    codec: { name: 'fp32' },
    deadline: Date.now() + 60_000,
    ...extra,
  };
}

describe('resuming a unit', () => {
  it('continues a checkpointed unit to the same delta as an uninterrupted run', async () => {
    await tf.setBackend('cpu');
    const images = syntheticImages(200, 3); // 200 samples: the batch order reshuffles mid-unit
    const shard = encodeShard(imageShard({ count: 200, rows: 28, cols: 28, ...images }));
    const built = await buildModel(model);
    const base = await getFlatWeights(built);
    built.dispose();
    const unit = unitOf();
    const whole = await new Trainer().trainUnit(
      unit,
      base,
      [shard],
      () => {},
      () => false,
    );

    const checkpoints: UnitCheckpoint[] = [];
    let steps = 0;
    await expect(
      new Trainer().trainUnit(
        unit,
        base,
        [shard],
        () => steps++,
        () => steps >= 12,
        {
          checkpoint: async (cp) => {
            checkpoints.push(structuredClone(cp));
          },
          checkpointEveryMs: 0,
        },
      ),
    ).rejects.toBeInstanceOf(Aborted);
    const last = checkpoints.at(-1)!;
    expect(last.step).toBe(10); // the yield point every 5 steps
    const resumed = await new Trainer().trainUnit(
      unit,
      base,
      [shard],
      () => {},
      () => false,
      {
        from: last,
      },
    );
    expect(resumed.numSamples).toBe(whole.numSamples);
    let maxDiff = 0;
    for (let i = 0; i < whole.delta.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(whole.delta[i] - resumed.delta[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(resumed.meanLoss).toBeCloseTo(whole.meanLoss, 4);
  });
});

describe('a reloaded contributor', () => {
  let co: TestCoordinator | null = null;
  let contributors: Contributor[] = [];
  afterEach(async () => {
    for (const c of contributors) await c.stop();
    contributors = [];
    await co?.destroy();
    co = null;
  });

  it('finishes the unit it was closed in, under the same lease, keeping its top-k residual', async () => {
    // The grace period must cover a reload; 10 s is plenty for a Node "reload".
    co = await startTestCoordinator({ disconnectGraceMs: 10_000 });
    const job = await addJob(co, {
      codec: { name: 'topk', fraction: 0.05 },
      hyperparameters: { batchSize: 32, localSteps: 200, learningRate: 0.002, optimizer: 'adam' },
      rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 60_000, leaseMs: 60_000 },
      stopping: { maxRounds: 2 },
    });
    const cache = new MemoryCache();
    const clientId = 'node_reload_test_client';
    const logs: string[] = [];
    const tab = () =>
      createNodeContributor({
        coordinatorUrl: co!.url,
        cache,
        clientId,
        benchmarkMs: 100,
        checkpointEveryMs: 0,
        log: (m) => logs.push(m),
      });
    const first = tab();
    contributors.push(first);
    await first.start();
    await expect.poll(() => first.state.unitProgress, { timeout: 60_000, interval: 20 }).toBeGreaterThan(0.3);
    await first.abandon();
    const saved = (await loadSavedUnit(cache)) as SavedUnit;
    expect(saved.checkpoint?.step).toBeGreaterThan(0);
    expect(saved.unit.jobId).toBe(job.id);

    const second = tab();
    contributors.push(second);
    await second.start();
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 90_000, interval: 200 })
      .toBe('completed');
    const resumedAt = logs.map((m) => /resuming unit (\S+) at step (\d+)/.exec(m)).find(Boolean);
    expect(resumedAt?.[1]).toBe(saved.unit.unitId);
    expect(Number(resumedAt?.[2])).toBeGreaterThanOrEqual(saved.checkpoint!.step);
    const [update] = await co.store.listUpdates(job.id, 1);
    expect(update.unitId).toBe(saved.unit.unitId);
    expect(logs.some((m) => /refused/.test(m))).toBe(false);
    // The top-k residual outlives the runtime: it is in the cache, per job.
    const residual = await cache.getState<{ residual: Float32Array }>(`residual:${job.id}`);
    expect(residual?.residual?.some((v) => v !== 0)).toBe(true);
    expect(await loadSavedUnit(cache)).toBeNull();
  });

  it('does not resume a unit saved hours ago, nor one another tab saved', async () => {
    co = await startTestCoordinator();
    const cache = new MemoryCache();
    const save = (extra: Partial<SavedUnit>) =>
      cache.putState('unit-in-progress', {
        coordinatorUrl: co!.url,
        unit: unitOf({ deadline: Date.now() - RESUME_WITHIN_MS - 60_000 }),
        backends: [],
        chosenBackend: 'cpu',
        checkpoint: null,
        clientId: 'node_this_tab',
        ...extra,
      } satisfies SavedUnit);
    const logs: string[] = [];
    const started = async () => {
      const c = createNodeContributor({
        coordinatorUrl: co!.url,
        cache,
        clientId: 'node_this_tab',
        benchmarkMs: 100,
        log: (m) => logs.push(m),
      });
      contributors.push(c);
      await c.start();
      await c.stop();
    };
    await save({ savedAt: Date.now() - RESUME_WITHIN_MS - 1000 });
    await started();
    expect(logs.some((m) => /not resumed \(too-old\)/.test(m))).toBe(true);
    expect(await loadSavedUnit(cache)).toBeNull();
    // Tabs of one origin share the cache: another tab's unit is left to it.
    await save({ savedAt: Date.now(), clientId: 'node_other_tab' });
    await started();
    expect(logs.some((m) => /not resumed \(other-tab\)/.test(m))).toBe(true);
    expect((await loadSavedUnit(cache))?.clientId).toBe('node_other_tab');
  });

  /** A tab closed mid-unit and gone past the grace period; its saved lease then past its deadline. */
  async function closedMidUnit(cache: MemoryCache, clientId: string) {
    const first = createNodeContributor({ coordinatorUrl: co!.url, cache, clientId, benchmarkMs: 100 });
    contributors.push(first);
    await first.start();
    await expect.poll(() => first.state.unitProgress, { timeout: 60_000, interval: 20 }).toBeGreaterThan(0.1);
    const contributorId = first.state.contributorId!;
    await first.abandon();
    const saved = (await loadSavedUnit(cache)) as SavedUnit;
    const status = () =>
      co!.scheduler.roundOf(saved.unit.jobId)!.units.find((u) => u.id === saved.unit.unitId)!.status;
    await expect.poll(status, { timeout: 10_000 }).toBe('pending'); // the unit went back out
    await cache.putState('unit-in-progress', { ...saved, unit: { ...saved.unit, deadline: Date.now() - 1 } });
    return { saved, contributorId };
  }

  function reloaded(cache: MemoryCache, clientId: string) {
    const logs: string[] = [];
    const errors: string[] = [];
    const tab = createNodeContributor({
      coordinatorUrl: co!.url,
      cache,
      clientId,
      benchmarkMs: 100,
      log: (m) => logs.push(m),
    });
    contributors.push(tab);
    tab.subscribe((s) => {
      if (s.lastError) errors.push(s.lastError);
    });
    return { tab, logs, errors };
  }

  it('resumes a unit past its deadline and gone past the grace period: used when nobody delivered it', async () => {
    co = await startTestCoordinator({ disconnectGraceMs: 200 });
    const job = await addJob(co, {
      hyperparameters: { batchSize: 32, localSteps: 100, learningRate: 0.002, optimizer: 'adam' },
      rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 600_000, leaseMs: 60_000 },
      stopping: { maxRounds: 1 },
    });
    const cache = new MemoryCache();
    const { saved, contributorId } = await closedMidUnit(cache, 'node_late_tab');
    const { tab, logs, errors } = reloaded(cache, 'node_late_tab');
    await tab.start();
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 90_000, interval: 200 })
      .toBe('completed');
    expect(
      logs.some((m) => m.includes(`resuming unit ${saved.unit.unitId}`) && /past its deadline/.test(m)),
    ).toBe(true);
    const [update] = await co.store.listUpdates(job.id, 1);
    expect(update).toMatchObject({ unitId: saved.unit.unitId, contributorId });
    expect(errors).toEqual([]);
  });

  it('drops a resumed unit another tab delivered meanwhile, quietly, and moves on to new work', async () => {
    co = await startTestCoordinator({ disconnectGraceMs: 200 });
    const job = await addJob(co, {
      hyperparameters: { batchSize: 32, localSteps: 100, learningRate: 0.002, optimizer: 'adam' },
      rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 600_000, leaseMs: 60_000 },
      stopping: { maxRounds: 1 },
    });
    const cache = new MemoryCache();
    const { saved, contributorId } = await closedMidUnit(cache, 'node_too_late_tab');
    // Another tab takes the unit and delivers it first.
    const offer = await co.scheduler.requestUnit('c-other');
    expect(offer.unit?.unitId).toBe(saved.unit.unitId);
    const payload = new Uint8Array(101_770 * 4);
    await co.scheduler.submit(
      'c-other',
      {
        leaseId: offer.unit!.leaseId,
        unitId: offer.unit!.unitId,
        baseVersionId: offer.unit!.baseVersionId,
        numSamples: 3200,
        codec: 'fp32',
        checksum: createHash('sha256').update(payload).digest('hex'),
        loss: 1,
        trainMs: 10,
        backend: 'cpu',
      },
      payload,
    );
    const { tab, logs, errors } = reloaded(cache, 'node_too_late_tab');
    await tab.start();
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 90_000, interval: 200 })
      .toBe('completed');
    expect(logs.some((m) => m.includes(`unit ${saved.unit.unitId} came back too late (LEASE_UNKNOWN)`))).toBe(
      true,
    );
    const by = new Map((await co.store.listUpdates(job.id, 1)).map((u) => [u.unitId, u.contributorId]));
    expect(by.get(saved.unit.unitId)).toBe('c-other');
    expect([...by.values()]).toContain(contributorId); // its next unit, the round's other one
    expect(errors).toEqual([]);
    expect(tab.state.unitsDone).toBe(1);
  });
});
