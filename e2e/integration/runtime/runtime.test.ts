/**
 * The runtime against a real coordinator in the same process: Node contributors (wasm or cpu
 * backend) train the synthetic dataset across rounds, and a contributor that takes a unit and
 * goes silent does not stall the job.
 */

import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import {
  addJob,
  startTestCoordinator,
  type TestCoordinator,
  updateMetaFor,
} from '@gridtab/coordinator/testing';
import { registerWasmConvKernels, unregisterWasmConvKernels } from '@gridtab/kernels/wasm-conv';
import { CONTRIBUTOR_NAMESPACE, MODEL_PRESETS, PROTOCOL_VERSION } from '@gridtab/shared';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseBackend, missingTrainingKernels } from '../../../client/src/runtime/backends.ts';

describe('contributor runtime', () => {
  let co: TestCoordinator | null = null;
  let contributors: Contributor[] = [];
  afterEach(async () => {
    for (const c of contributors) await c.stop();
    contributors = [];
    await co?.destroy();
    co = null;
  });

  it('trains a job across three contributors, version after version', async () => {
    co = await startTestCoordinator();
    const job = await addJob(co, { stopping: { maxRounds: 4 } });
    contributors = [0, 1, 2].map(() => createNodeContributor({ coordinatorUrl: co!.url, benchmarkMs: 100 }));
    await Promise.all(contributors.map((c) => c.start()));
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 90_000, interval: 200 })
      .toBe('completed');
    const versions = await co.store.listVersions(job.id);
    expect(versions.map((v) => v.round)).toEqual([0, 1, 2, 3, 4]);
    const accuracy = versions.slice(1).map((v) => v.metrics.testAccuracy!);
    expect(accuracy.at(-1)).toBeGreaterThan(0.5); // random guessing is 0.1
    const updates = (await Promise.all([1, 2, 3, 4].map((r) => co!.store.listUpdates(job.id, r)))).flat();
    expect(updates).toHaveLength(12);
    const done = contributors.reduce((n, c) => n + c.state.unitsDone, 0);
    expect(done).toBe(12);
    for (const c of contributors) {
      expect(c.state.chosenBackend).toBe('wasm');
      expect(c.state.backends.find((b) => b.name === 'wasm')?.samplesPerSec).toBeGreaterThan(0);
      // every version the job made is announced to every contributor (the last one may still be
      // on the wire when the store says the job completed)
      await expect
        .poll(() => c.state.versions.filter((v) => v.jobId === job.id).map((v) => v.round), {
          timeout: 10_000,
        })
        .toEqual([1, 2, 3, 4]);
    }
  });

  it('carries on across a dropped connection', async () => {
    co = await startTestCoordinator();
    const job = await addJob(co, { stopping: { maxRounds: 3 } });
    contributors = [createNodeContributor({ coordinatorUrl: co.url, benchmarkMs: 100 })];
    await contributors[0].start();
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.round, { timeout: 60_000, interval: 100 })
      .toBeGreaterThanOrEqual(2);
    // Close the transport under the socket, as a network drop would; socket.io reconnects.
    for (const socket of co.io.of(CONTRIBUTOR_NAMESPACE).sockets.values()) socket.conn.close();
    await expect.poll(() => contributors[0].state.connected, { timeout: 10_000, interval: 20 }).toBe(false);
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 60_000, interval: 200 })
      .toBe('completed');
    expect(contributors[0].state.connected).toBe(true);
    expect(contributors[0].state.unitsDone).toBe(9);
  });

  it('does not stall when a contributor takes a unit and goes silent', async () => {
    co = await startTestCoordinator();
    const job = await addJob(co, {
      rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 60_000, leaseMs: 2000 },
      stopping: { maxRounds: 2 },
    });
    // A raw client that joins, takes a unit and never answers: a frozen tab.
    const frozen = io(`${co.url}${CONTRIBUTOR_NAMESPACE}`, { transports: ['websocket'] });
    await frozen.timeout(5000).emitWithAck('contributor:join', {
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'frozen_tab_1',
      backends: [],
      chosenBackend: 'cpu',
    });
    const offer = await frozen.timeout(5000).emitWithAck('unit:request', {});
    const lost = offer.data.unit.unitId as string;
    contributors = [createNodeContributor({ coordinatorUrl: co.url, benchmarkMs: 100 })];
    await contributors[0].start();
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 60_000, interval: 200 })
      .toBe('completed');
    const round1 = await co.store.listUpdates(job.id, 1);
    expect(round1.map((u) => u.unitId)).toContain(lost);
    expect(new Set(round1.map((u) => u.contributorId)).size).toBe(1);
    frozen.disconnect();
  });

  it('asks for its next unit with its update, and gives that unit back when the update is refused', async () => {
    co = await startTestCoordinator();
    // Long units, and a round that closes at its deadline once one update is in.
    await addJob(co, {
      hyperparameters: { batchSize: 32, localSteps: 3000, learningRate: 0.002, optimizer: 'adam' },
      rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 1000, leaseMs: 60_000 },
      stopping: { maxRounds: 5 },
    });
    const scheduler = co.scheduler;
    const leased: { contributorId: string; leaseId: string; round: number }[] = [];
    const released: string[] = [];
    const request = scheduler.requestUnit.bind(scheduler);
    const release = scheduler.release.bind(scheduler);
    scheduler.requestUnit = async (contributorId) => {
      const offer = await request(contributorId);
      if (offer.unit) leased.push({ contributorId, leaseId: offer.unit.leaseId, round: offer.unit.round });
      return offer;
    };
    scheduler.release = (contributorId, leaseId) => {
      released.push(leaseId);
      return release(contributorId, leaseId);
    };
    contributors = [createNodeContributor({ coordinatorUrl: co.url, benchmarkMs: 100 })];
    await contributors[0].start();
    await expect.poll(() => contributors[0].state.phase, { timeout: 30_000, interval: 20 }).toBe('training');
    // A raw tab delivers the round's other unit: at the deadline the round closes without the
    // contributor's, whose update then comes too late.
    const tab = io(`${co.url}${CONTRIBUTOR_NAMESPACE}`, { transports: ['websocket'] }).timeout(10_000);
    const joined = await tab.emitWithAck('contributor:join', {
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'quick_tab_1',
      backends: [],
      chosenBackend: 'cpu',
    });
    const unit = (await tab.emitWithAck('unit:request', {})).data.unit;
    const payload = new Uint8Array(101_770 * 4);
    const ack = await tab.emitWithAck('unit:submit', updateMetaFor(unit, payload), payload);
    expect(ack.ok).toBe(true);
    await expect
      .poll(() => contributors[0].state.lastError, { timeout: 60_000, interval: 50 })
      .toBe('update refused: STALE_VERSION');
    // Its request went with the update and was answered with a unit of round 2: given back.
    const firstOfRound2 = () =>
      leased.find((l) => l.contributorId !== joined.data.contributorId && l.round === 2)?.leaseId;
    await expect
      .poll(() => released.includes(firstOfRound2() ?? 'none'), { timeout: 10_000, interval: 50 })
      .toBe(true);
    tab.disconnect();
  });

  it('pauses while its request for work is held, and gives back a unit that comes after', async () => {
    co = await startTestCoordinator();
    await addJob(co, { rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 } });
    // A raw tab holds the round's only unit: the contributor's request is held (waitMs).
    /** A raw tab, joined under `clientId`. */
    const raw = async (clientId: string) => {
      const socket = io(`${co!.url}${CONTRIBUTOR_NAMESPACE}`, { transports: ['websocket'] }).timeout(10_000);
      await socket.emitWithAck('contributor:join', {
        protocolVersion: PROTOCOL_VERSION,
        clientId,
        backends: [],
        chosenBackend: 'cpu',
      });
      return socket;
    };
    const holder = await raw('holder_tab_1');
    const first = (await holder.emitWithAck('unit:request', {})).data.unit;
    contributors = [createNodeContributor({ coordinatorUrl: co.url, benchmarkMs: 100 })];
    await contributors[0].start();
    await expect
      .poll(() => contributors[0].state.phase, { timeout: 30_000, interval: 20 })
      .toBe('connecting');
    await new Promise((r) => setTimeout(r, 300)); // its request reaches the coordinator and is held
    const phases: string[] = [];
    contributors[0].subscribe((state) => phases.push(state.phase));
    const pausing = contributors[0].pause();
    // The unit freed now goes to the held request of a contributor that is pausing: it must not
    // train it, and gives it back.
    await holder.emitWithAck('unit:release', { leaseId: first.leaseId });
    await pausing;
    expect(contributors[0].state.phase).toBe('paused');
    const other = await raw('other_tab_1');
    await expect
      .poll(async () => (await other.emitWithAck('unit:request', {})).data.unit?.unitId ?? null, {
        timeout: 20_000,
        interval: 200,
      })
      .toBe(first.unitId);
    expect(contributors[0].state.unitsDone).toBe(0);
    expect(phases.filter((p) => p === 'fetching' || p === 'training')).toEqual([]);
    expect(contributors[0].state.phase).toBe('paused');
    holder.disconnect();
    other.disconnect();
  });
});

describe('backend choice', () => {
  it("trains a CNN on wasm with GridTab's gradients and skips a backend that lacks a kernel", () => {
    // wasm ships without Conv2DBackpropFilter; the runtime registers ours (kernels/src/wasm-conv).
    expect(missingTrainingKernels('wasm', MODEL_PRESETS['fashion-cnn'])).toEqual([]);
    expect(missingTrainingKernels('cpu', MODEL_PRESETS['fashion-cnn'])).toEqual([]);
    const scores = [
      { name: 'wasm' as const, available: true, samplesPerSec: 5000 },
      { name: 'cpu' as const, available: true, samplesPerSec: 900 },
      { name: 'webgpu' as const, available: false, samplesPerSec: 0 },
    ];
    expect(chooseBackend(scores, MODEL_PRESETS['fashion-cnn'])).toBe('wasm');
    // As TF.js ships it, wasm lacks the filter gradient: the faster backend is then skipped.
    unregisterWasmConvKernels();
    try {
      expect(missingTrainingKernels('wasm', MODEL_PRESETS['fashion-cnn'])).toEqual(['Conv2DBackpropFilter']);
      expect(chooseBackend(scores, MODEL_PRESETS['fashion-cnn'])).toBe('cpu');
      expect(chooseBackend(scores, MODEL_PRESETS['fashion-mlp'])).toBe('wasm');
    } finally {
      registerWasmConvKernels();
    }
    expect(chooseBackend(scores.filter((s) => s.name === 'webgpu'))).toBeNull();
  });
});
