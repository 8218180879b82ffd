import {
  INFERENCE_NAMESPACE,
  type InferenceClientEvents,
  type InferenceServerEvents,
  jobSpecSchema,
} from '@gridtab/shared';
import { buildModel, setFlatWeights } from '@gridtab/shared/tf';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTf, tf } from '../evaluation/tf-node.ts';
import { commitVersion } from '../registry/testing.ts';
import { createJob } from '../scheduler/jobs.ts';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';

let co: TestCoordinator;
let jobId: string;
const admin = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
const post = (path: string, body: unknown, headers: Record<string, string> = admin) =>
  fetch(`${co.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
const get = async (path: string) => (await fetch(`${co.url}${path}`)).json();

beforeAll(async () => {
  co = await startTestCoordinator();
  const job = await createJob(co, jobSpecSchema.parse({ ...TEST_JOB, name: 'Fashion' }));
  jobId = job.id;
  await commitVersion(co, jobId, 0.6);
  await commitVersion(co, jobId, 0.7);
});
afterAll(() => co?.destroy());

const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe('/api/models', () => {
  it('lists models and versions in the public shapes', async () => {
    const versions = await get('/api/models/fashion/versions');
    expect(versions).toHaveLength(3);
    expect(Object.keys(versions[0]).sort()).toEqual([
      'createdAt',
      'dataset',
      'hash',
      'id',
      'jobId',
      'metrics',
      'parentId',
    ]);
    expect(versions[2]).toMatchObject({ jobId, parentId: versions[1].id, metrics: { testAccuracy: 0.7 } });
    // The job trained on the start-up import; every version names it with its content hash.
    expect(versions[0].dataset).toMatchObject({ name: 'fashion-mnist', version: 1 });
    expect(versions[0].dataset.hash).toMatch(/^[0-9a-f]{64}$/);
    const models = await get('/api/models');
    expect(models).toContainEqual({ name: 'fashion', aliases: {}, latestVersionId: versions[2].id });
  });

  it('moves an alias with the admin token only, and refuses bad input without storing it', async () => {
    const [, v1, v2] = await get('/api/models/fashion/versions');
    const path = '/api/models/fashion/aliases/production';
    expect((await post(path, { versionId: v1.id }, { 'content-type': 'application/json' })).status).toBe(401);
    const unknownVersion = await post(path, { versionId: 'v-missing' });
    expect([unknownVersion.status, await errorCode(unknownVersion)]).toEqual([404, 'NOT_FOUND']);
    const unknownModel = await post('/api/models/nope/aliases/production', { versionId: v1.id });
    expect(unknownModel.status).toBe(404);
    for (const body of [
      {},
      { versionId: 3 },
      { versionId: v1.id, extra: 1 },
      { versionId: v1.id, canary: { versionId: v2.id, fraction: 2 } },
    ]) {
      const res = await post(path, body);
      expect([res.status, await errorCode(res)]).toEqual([400, 'BAD_REQUEST']);
    }
    expect((await get('/api/models')).find((m: { name: string }) => m.name === 'fashion').aliases).toEqual(
      {},
    );
    const moved = await post(path, { versionId: v1.id });
    expect(moved.status).toBe(200);
    expect((await get('/api/models')).find((m: { name: string }) => m.name === 'fashion').aliases).toEqual({
      production: v1.id,
    });
    const unknownAlias = await fetch(`${co.url}/api/models/fashion/aliases/canary-x`);
    expect([unknownAlias.status, await errorCode(unknownAlias)]).toEqual([404, 'NOT_FOUND']);
    expect((await fetch(`${co.url}/api/models/fashion/versions/v-missing/model.json`)).status).toBe(404);
  });

  it('names a job model with auto-promotion, rolls aliases back, and answers lineage and canary picks', async () => {
    const other = await createJob(co, jobSpecSchema.parse({ ...TEST_JOB, name: 'Second job' }));
    const bind = {
      name: 'second',
      jobId: other.id,
      autoPromote: { alias: 'staging', metric: 'testAccuracy' },
    };
    expect((await post('/api/models', bind, { 'content-type': 'application/json' })).status).toBe(401);
    const taken = await post('/api/models', { ...bind, name: 'fashion' });
    expect([taken.status, await errorCode(taken)]).toEqual([409, 'CONFLICT']);
    expect((await post('/api/models', { ...bind, jobId: 'j-missing' })).status).toBe(404);
    expect((await post('/api/models', { ...bind, name: 'bad name!' })).status).toBe(400);
    expect(await (await post('/api/models', bind)).json()).toMatchObject({ name: 'second', jobId: other.id });
    const v = await commitVersion(co, other.id, 0.8);
    await co.registry.onVersionCommitted(other.id, v.id); // what the scheduler's commit hook calls
    const auto = await get('/api/models/second/aliases/staging/history');
    expect(auto.map((m: { actor: string; versionId: string }) => [m.actor, m.versionId])).toEqual([
      ['auto', v.id],
    ]);

    const [v0, v1, v2] = await get('/api/models/fashion/versions');
    await post('/api/models/fashion/aliases/canary-test', { versionId: v0.id });
    await post('/api/models/fashion/aliases/canary-test', {
      versionId: v1.id,
      canary: { versionId: v2.id, fraction: 1 },
    });
    const picked = await get('/api/models/fashion/aliases/canary-test?client=abc');
    expect(picked).toMatchObject({ versionId: v1.id, canary: { versionId: v2.id, fraction: 1 } });
    expect(picked.resolved).toEqual({ versionId: v2.id, hash: v2.hash, canary: true });
    const back = await post('/api/models/fashion/aliases/canary-test/rollback', {});
    expect(await back.json()).toMatchObject({ versionId: v0.id, canary: null, actor: 'rollback' });
    const none = await post('/api/models/fashion/aliases/canary-test/rollback', {});
    expect([none.status, await errorCode(none)]).toEqual([409, 'CONFLICT']);
    const lineage = await get(`/api/models/fashion/versions/${v1.id}/lineage`);
    expect(lineage).toMatchObject({ version: { id: v1.id }, updates: [], contributors: [] });
  });

  it('exports a version that plain tf.loadLayersModel loads, with the same predictions', async () => {
    await initTf();
    const [, , v2] = await get('/api/models/fashion/versions');
    const url = `${co.url}/api/models/fashion/versions/${v2.id}/model.json`;
    const loaded = await tf.loadLayersModel(url);
    const reference = await buildModel((await co.store.getJob(jobId))!.spec.model);
    const { bytesToFloat32 } = await import('@gridtab/shared/tf');
    setFlatWeights(reference, bytesToFloat32((await co.blobs.get(v2.hash))!));
    const x = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 7);
    const a = (await (loaded.predict(x) as tf.Tensor).data()) as Float32Array;
    const b = (await (reference.predict(x) as tf.Tensor).data()) as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
    tf.dispose([x]);
    loaded.dispose();
    reference.dispose();
  });

  it('imports a TF.js layers model as an inference-only model and exports it back unchanged', async () => {
    await initTf();
    const [, , v2] = await get('/api/models/fashion/versions');
    const modelJson = await get(`/api/models/fashion/versions/${v2.id}/model.json`);
    const weights = Buffer.from(
      await (await fetch(`${co.url}/api/models/fashion/versions/${v2.id}/weights.bin`)).arrayBuffer(),
    );
    const truncated = await post('/api/models/imported/import', {
      modelJson,
      weights: weights.subarray(0, 1000).toString('base64'),
    });
    expect([truncated.status, await errorCode(truncated)]).toEqual([400, 'WEIGHTS_MISMATCH']);
    expect((await get('/api/models')).map((m: { name: string }) => m.name)).not.toContain('imported');
    const taken = await post('/api/models/fashion/import', {
      modelJson,
      weights: weights.toString('base64'),
    });
    expect([taken.status, await errorCode(taken)]).toEqual([409, 'CONFLICT']);
    const res = await post('/api/models/imported/import', { modelJson, weights: weights.toString('base64') });
    expect(res.status).toBe(201);
    const imported = await res.json();
    expect(imported).toMatchObject({ hash: v2.hash, jobId: null, parentId: null });
    const again = await tf.loadLayersModel(
      `${co.url}/api/models/imported/versions/${imported.id}/model.json`,
    );
    const x = tf.ones([1, 28, 28, 1]);
    const original = await tf.loadLayersModel(`${co.url}/api/models/fashion/versions/${v2.id}/model.json`);
    expect(Array.from(await (again.predict(x) as tf.Tensor).data())).toEqual(
      Array.from(await (original.predict(x) as tf.Tensor).data()),
    );
    tf.dispose(x);
    again.dispose();
    original.dispose();
  });

  it('tells inference subscribers when their alias moves, and keeps their telemetry per version', async () => {
    const [, v1, v2] = await get('/api/models/fashion/versions');
    await post('/api/models/fashion/aliases/staging', { versionId: v1.id });
    const socket: Socket<InferenceServerEvents, InferenceClientEvents> = io(
      `${co.url}${INFERENCE_NAMESPACE}`,
      {
        transports: ['websocket'],
      },
    );
    try {
      const bad = await socket.emitWithAck('model:subscribe', { name: 'fashion', alias: 'nope' });
      expect(bad).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
      const sub = await socket.emitWithAck('model:subscribe', {
        name: 'fashion',
        alias: 'staging',
        clientKey: 'k1',
      });
      expect(sub).toMatchObject({ ok: true, data: { versionId: v1.id, hash: v1.hash, canary: false } });
      const promoted = new Promise((resolve) => socket.once('model:promoted', resolve));
      await post('/api/models/fashion/aliases/staging', { versionId: v2.id });
      expect(await promoted).toMatchObject({
        name: 'fashion',
        alias: 'staging',
        versionId: v2.id,
        hash: v2.hash,
      });
      const report = {
        name: 'fashion',
        versionId: v2.id,
        backend: 'cpu',
        predictions: 4,
        errors: 1,
        latenciesMs: [1, 2, 3, 4],
        classCounts: [0, 3, 0, 1],
        inputMean: 0.5,
        inputStd: 0.25,
      };
      expect(await socket.emitWithAck('inference:report', { ...report, predictions: -1 })).toMatchObject({
        ok: false,
        error: { code: 'BAD_REQUEST' },
      });
      expect(
        await socket.emitWithAck('inference:report', { ...report, versionId: 'v-missing' }),
      ).toMatchObject({
        ok: false,
        error: { code: 'NOT_FOUND' },
      });
      expect(await socket.emitWithAck('inference:report', report)).toEqual({
        ok: true,
        data: { kept: true },
      });
      const t = await get(`/api/models/fashion/versions/${v2.id}/telemetry`);
      expect(t).toMatchObject({
        predictions: 4,
        errors: 1,
        classCounts: [0, 3, 0, 1],
        input: { mean: 0.5, std: 0.25 },
      });
      expect(t.latencyMs.samples).toBe(4);
      const prom = await (await fetch(`${co.url}/metrics`)).text();
      expect(prom).toContain(`gridtab_inference_predictions_total{model="fashion",version="${v2.id}"} 4`);
    } finally {
      socket.close();
    }
  });
});
