/**
 * The public `/inference` namespace's bounds: a token bucket per socket over subscribes and
 * reports, a cap on the aliases one socket follows, and telemetry kept only for known versions
 * with a bounded set of backend names. A manual clock refills the bucket, so nothing sleeps.
 */
import {
  INFERENCE_NAMESPACE,
  type InferenceClientEvents,
  type InferenceServerEvents,
  jobSpecSchema,
} from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { MAX_BACKENDS } from '../registry/telemetry.ts';
import { commitVersion } from '../registry/testing.ts';
import { createJob } from '../scheduler/jobs.ts';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';
import { INFERENCE_BURST, INFERENCE_PER_SECOND, MAX_SUBSCRIPTIONS } from './inference.ts';

let co: TestCoordinator;
let jobId: string;
let versionId: string;
const clock = new ManualClock();
const sockets: Socket[] = [];

beforeAll(async () => {
  co = await startTestCoordinator({}, { clock });
  const job = await createJob(co, jobSpecSchema.parse({ ...TEST_JOB, name: 'Inferred' }));
  jobId = job.id;
  versionId = (await commitVersion(co, jobId, 0.6)).id;
  await co.registry.moveAlias('inferred', 'production', { versionId });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await co?.destroy();
});

const connect = () => {
  const s: Socket<InferenceServerEvents, InferenceClientEvents> = io(`${co.url}${INFERENCE_NAMESPACE}`, {
    transports: ['websocket'],
    forceNew: true,
  });
  sockets.push(s);
  return s;
};

const report = (version: string, backend = 'cpu') => ({
  name: 'inferred',
  versionId: version,
  backend,
  predictions: 2,
  errors: 0,
  latenciesMs: [1, 2],
  classCounts: [1, 1],
  inputMean: 0.5,
  inputStd: 0.25,
});

describe('/inference bounds', () => {
  it('refuses messages past the socket token bucket with RATE_LIMITED, and takes them as it refills', async () => {
    const s = connect();
    const before = co.inferenceTelemetry.forVersion('inferred', versionId).reports;
    for (let i = 0; i < INFERENCE_BURST; i++)
      expect(await s.emitWithAck('inference:report', report(versionId))).toMatchObject({ ok: true });
    expect(await s.emitWithAck('inference:report', report(versionId))).toMatchObject({
      ok: false,
      error: { code: 'RATE_LIMITED' },
    });
    // Subscribes draw from the same bucket: each costs store reads too.
    expect(await s.emitWithAck('model:subscribe', { name: 'inferred', alias: 'production' })).toMatchObject({
      ok: false,
      error: { code: 'RATE_LIMITED' },
    });
    expect(co.inferenceTelemetry.forVersion('inferred', versionId).reports).toBe(before + INFERENCE_BURST);
    // Another socket has its own bucket.
    expect(await connect().emitWithAck('inference:report', report(versionId))).toMatchObject({ ok: true });
    clock.advance(1000 / INFERENCE_PER_SECOND);
    expect(await s.emitWithAck('inference:report', report(versionId))).toMatchObject({ ok: true });
    expect(await s.emitWithAck('inference:report', report(versionId))).toMatchObject({
      error: { code: 'RATE_LIMITED' },
    });
    clock.advance(60_000); // a long quiet spell refills the bucket to its burst, no further
    for (let i = 0; i < INFERENCE_BURST; i++)
      expect(await s.emitWithAck('inference:report', report(versionId))).toMatchObject({ ok: true });
    expect(await s.emitWithAck('inference:report', report(versionId))).toMatchObject({
      error: { code: 'RATE_LIMITED' },
    });
  });

  it('caps the aliases one socket follows; failed and repeated subscribes do not count', async () => {
    for (let i = 0; i <= MAX_SUBSCRIPTIONS; i++)
      await co.registry.moveAlias('inferred', `a${i}`, { versionId });
    const s = connect();
    expect(await s.emitWithAck('model:subscribe', { name: 'inferred', alias: 'missing' })).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    for (let i = 0; i < MAX_SUBSCRIPTIONS; i++)
      expect(await s.emitWithAck('model:subscribe', { name: 'inferred', alias: `a${i}` })).toMatchObject({
        ok: true,
        data: { versionId },
      });
    expect(
      await s.emitWithAck('model:subscribe', { name: 'inferred', alias: `a${MAX_SUBSCRIPTIONS}` }),
    ).toMatchObject({ ok: false, error: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
    expect(await s.emitWithAck('model:subscribe', { name: 'inferred', alias: 'a0' })).toMatchObject({
      ok: true,
    });
  });

  it('keeps telemetry only for known versions, and a bounded set of backend names per version', async () => {
    const fresh = (await commitVersion(co, jobId, 0.7)).id;
    const s = connect();
    expect(await s.emitWithAck('inference:report', report('v-invented'))).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    for (let i = 0; i < MAX_BACKENDS + 3; i++)
      expect(await s.emitWithAck('inference:report', report(fresh, `backend${i}`))).toMatchObject({
        ok: true,
      });
    expect(await s.emitWithAck('inference:report', report(fresh, '__proto__'))).toMatchObject({ ok: true });
    const { backends, reports } = co.inferenceTelemetry.forVersion('inferred', fresh);
    expect(reports).toBe(MAX_BACKENDS + 4);
    expect(Object.keys(backends)).toHaveLength(MAX_BACKENDS + 1);
    expect(backends.other).toBe(2 * 4);
    expect(backends.backend0).toBe(2);
    const prom = await (await fetch(`${co.url}/metrics`)).text();
    expect(prom).not.toContain('v-invented');
    expect(prom).toContain(`gridtab_inference_predictions_total{model="inferred",version="${fresh}"}`);
  });
});
