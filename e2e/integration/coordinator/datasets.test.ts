/**
 * The dataset API against a real coordinator: uploads of real files (vega-datasets' penguins
 * and cars as CSV) through HTTP, versioning by content, jobs recording the version, lineage,
 * deletion with shard garbage collection, refusals that leave nothing behind, and a regression
 * job trained by Node contributors.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '@gridtab/coordinator/testing';
import { CONSOLE_NAMESPACE, type DatasetImportProgress, jobSpecSchema } from '@gridtab/shared';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAR_COLUMNS,
  cars,
  PENGUIN_COLUMNS,
  penguins,
  type Row,
  toDelimited,
} from '../../../coordinator/src/datasets/import/test-data.ts';
import { initTf, tf } from '../../../coordinator/src/evaluation/tf-node.ts';

const ADMIN = 'Bearer test-admin-token';
const VIEWER = 'Bearer test-viewer-token';
const MAX_BYTES = 200_000;

const penguinRows = (): Row[] => penguins().filter((r) => r.Species !== null);
const penguinCsv = (rows = penguinRows()) => toDelimited(rows, PENGUIN_COLUMNS);
const PENGUIN_QUERY = 'format=csv&label=Species&missing=impute&shardSize=16&fileName=penguins.csv';

/** A dense network for `inputs` features, as the TF.js layers JSON a job spec carries. */
async function denseModel(inputs: number, outputs: number, activation: 'softmax' | 'linear') {
  await initTf();
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units: 16, activation: 'relu' }),
      tf.layers.dense({ units: outputs, activation }),
    ],
  });
  const json = model.toJSON(undefined, false) as unknown as Record<string, unknown>;
  model.dispose();
  return json;
}

describe('dataset API', () => {
  let co: TestCoordinator;
  const blobsDir = () => join(co.dir, 'data', 'blobs');
  /** Every blob file (the blob store's own tmp folder aside). */
  const blobFiles = () =>
    readdirSync(blobsDir(), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.parentPath.endsWith('tmp'))
      .map((e) => e.name)
      .sort();
  const spooled = () => readdirSync(join(co.dir, 'data', 'tmp'));

  const upload = (
    name: string,
    body: BodyInit,
    query = PENGUIN_QUERY,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${co.url}/api/datasets/${name}/versions?${query}`, {
      method: 'POST',
      headers: { authorization: ADMIN, 'content-type': 'text/csv', ...headers },
      body,
    });
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${co.url}/api${path}`, {
      ...init,
      headers: { authorization: ADMIN, 'content-type': 'application/json', ...init.headers },
    });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    co = await startTestCoordinator({ datasetMaxBytes: MAX_BYTES, viewerToken: 'test-viewer-token' });
  });
  afterAll(async () => {
    await co?.destroy();
  });

  it('lists Fashion-MNIST as fashion-mnist@1 from the start-up import', async () => {
    const list = await api('/datasets');
    expect(list.body).toContainEqual(
      expect.objectContaining({ name: 'fashion-mnist', latest: 1, versions: 1 }),
    );
    const v1 = await api('/datasets/fashion-mnist/versions/1');
    expect(v1.body).toMatchObject({
      id: 'fashion-mnist@1',
      source: { format: 'idx', importedBy: 'bootstrap' },
    });
  });

  it('versions penguins by content: a new file is @1, the same bytes are @1 again, an edit is @2 sharing shards', async () => {
    const first = await upload('penguins', penguinCsv());
    expect(first.status).toBe(201);
    const v1 = await first.json();
    expect(v1).toMatchObject({
      id: 'penguins@1',
      version: 1,
      parent: null,
      task: { kind: 'classification', numClasses: 3 },
      schema: { inputShape: [9], labelColumn: 'Species', classNames: ['Adelie', 'Chinstrap', 'Gentoo'] },
      source: { fileName: 'penguins.csv', format: 'csv', importedBy: 'ADMIN_TOKEN (admin)' },
    });
    expect(v1.source.options).toMatchObject({ label: 'Species', missing: 'impute', shardSize: '16' });
    expect(v1.stats.features).toHaveLength(9);
    expect(v1.splits.train + v1.splits.test).toBe(penguinRows().length);
    expect(v1.source.bytes).toBe(Buffer.byteLength(penguinCsv()));

    const again = await upload('penguins', penguinCsv());
    expect(again.status).toBe(200);
    expect((await again.json()).id).toBe('penguins@1');

    // About 1% more rows at the end: most shards are the same bytes, so the same blobs.
    const rows = penguinRows();
    const edited = [
      ...rows,
      ...rows.slice(0, 4).map((r) => ({ ...r, 'Body Mass (g)': Number(r['Body Mass (g)']) + 1 })),
    ];
    const second = await upload('penguins', penguinCsv(edited));
    expect(second.status).toBe(201);
    expect(await second.json()).toMatchObject({ id: 'penguins@2', version: 2, parent: 'penguins@1' });
    const [r1, r2] = [await co.store.getDataset('penguins@1'), await co.store.getDataset('penguins@2')];
    const shared = r2!.shardHashes.filter((h) => r1!.shardHashes.includes(h));
    expect(shared.length).toBeGreaterThan(r1!.shardHashes.length / 2);

    const versions = await api('/datasets/penguins/versions');
    expect(versions.body.map((v: { id: string }) => v.id)).toEqual(['penguins@1', 'penguins@2']);
    expect((await api('/datasets')).body).toContainEqual(
      expect.objectContaining({ name: 'penguins', latest: 2, versions: 2 }),
    );
  });

  it('records penguins@2 in a job on `penguins`, refuses a misfit model, and shows the lineage', async () => {
    const spec = {
      ...TEST_JOB,
      name: 'penguin mlp',
      dataset: 'penguins',
      model: await denseModel(9, 3, 'softmax'),
    };
    const job = await api('/jobs', { method: 'POST', body: JSON.stringify(spec) });
    expect(job.status).toBe(201);
    expect(job.body.dataset).toBe('penguins@2');
    expect((await co.store.getJob(job.body.id))!.spec.dataset).toBe('penguins@2');

    const misfit = await api('/jobs', {
      method: 'POST',
      body: JSON.stringify({ ...TEST_JOB, dataset: 'penguins@1' }),
    });
    expect(misfit).toMatchObject({ status: 400, body: { error: { code: 'DATASET_MODEL_MISMATCH' } } });

    const v2 = await api('/datasets/penguins/versions/2');
    expect(v2.body.lineage.jobs).toEqual([{ id: job.body.id, name: 'penguin mlp', status: 'running' }]);
    expect(v2.body.lineage.models).toContainEqual(
      expect.objectContaining({ name: 'penguin-mlp', version: 0, jobId: job.body.id }),
    );
    const modelVersions = await api('/models/penguin-mlp/versions');
    expect(modelVersions.body[0].dataset).toEqual({ name: 'penguins', version: 2, hash: v2.body.hash });
    const modelJson = await api(`/models/penguin-mlp/versions/${modelVersions.body[0].id}/model.json`);
    expect(modelJson.body.userDefinedMetadata.gridtab).toMatchObject({
      dataset: 'penguins@2',
      task: { kind: 'classification', numClasses: 3 },
      normalization: v2.body.normalization,
      classNames: ['Adelie', 'Chinstrap', 'Gentoo'],
      inputShape: [9],
    });
    expect((await api('/datasets/penguins/versions/1')).body.lineage).toEqual({ jobs: [], models: [] });
  });

  it('refuses to delete a version a job uses; deletes an unused one and collects only its unshared shards', async () => {
    const used = await api('/datasets/penguins/versions/2', { method: 'DELETE' });
    expect(used).toMatchObject({ status: 409, body: { error: { code: 'DATASET_IN_USE' } } });
    expect(await co.store.getDataset('penguins@2')).not.toBeNull();

    const r1 = (await co.store.getDataset('penguins@1'))!;
    const r2 = (await co.store.getDataset('penguins@2'))!;
    const keep = new Set([...r2.shardHashes, ...r2.testHashes]);
    const own = [...r1.shardHashes, ...r1.testHashes].filter((h) => !keep.has(h));
    expect(own.length).toBeGreaterThan(0);
    const gone = await api('/datasets/penguins/versions/1', { method: 'DELETE' });
    expect(gone.status).toBe(200);
    expect(gone.body).toMatchObject({ id: 'penguins@1', blobsDeleted: new Set(own).size });
    expect(gone.body.bytesFreed).toBeGreaterThan(0);
    for (const h of own) expect(await co.blobs.has(h)).toBe(false);
    for (const h of keep) expect(await co.blobs.has(h)).toBe(true);
    expect((await api('/datasets/penguins/versions/1')).status).toBe(404);
    expect((await api('/datasets/penguins/versions/1', { method: 'DELETE' })).status).toBe(404);
  });

  it('refuses bad uploads with a code, keeping no version, blob or spooled file', async () => {
    const before = { blobs: blobFiles(), datasets: (await co.store.listDatasets()).map((d) => d.id) };
    const csv = penguinCsv();
    // A ragged last row: the importer has written shards before it meets it.
    const ragged = `${csv}Dream,40,18,190,3500,MALE,Adelie,extra\n`;
    const cases: { res: () => Promise<Response>; status: number; code: string }[] = [
      {
        res: () => upload('refused', csv, PENGUIN_QUERY, { authorization: VIEWER }),
        status: 403,
        code: 'FORBIDDEN',
      },
      {
        res: () => upload('refused', csv, PENGUIN_QUERY, { authorization: '' }),
        status: 401,
        code: 'UNAUTHORIZED',
      },
      { res: () => upload('Bad%20Name', csv), status: 400, code: 'BAD_REQUEST' },
      { res: () => upload('refused', csv, 'format=xlsx'), status: 400, code: 'BAD_REQUEST' },
      { res: () => upload('refused', csv, `${PENGUIN_QUERY}&shardSize=0`), status: 400, code: 'BAD_REQUEST' },
      {
        res: () => upload('refused', csv, PENGUIN_QUERY, { 'content-type': 'application/json' }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      { res: () => upload('refused', csv.repeat(20), PENGUIN_QUERY), status: 413, code: 'PAYLOAD_TOO_LARGE' },
      { res: () => upload('refused', ragged), status: 400, code: 'RAGGED_ROW' },
      { res: () => upload('refused', 'Species\n'), status: 400, code: 'INVALID_FORMAT' },
    ];
    for (const c of cases) {
      const res = await c.res();
      const body = await res.json();
      expect({ status: res.status, code: body.error?.code }).toEqual({ status: c.status, code: c.code });
    }
    expect(csv.repeat(20).length).toBeGreaterThan(MAX_BYTES);
    expect((await co.store.listDatasets()).map((d) => d.id)).toEqual(before.datasets);
    expect(blobFiles()).toEqual(before.blobs);
    expect(spooled()).toEqual([]);
    expect((await api('/health')).body).toEqual({ ok: true });
  });

  it("tells console sockets how an upload's import advances", async () => {
    const socket = io(`${co.url}${CONSOLE_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      auth: { token: 'test-admin-token' },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.on('connect', resolve);
        socket.on('connect_error', reject);
      });
      const heardAll: DatasetImportProgress[] = [];
      socket.on('dataset:import', (p: DatasetImportProgress) => heardAll.push(p));
      // Over 4096 rows, the importer's progress step: twelve copies of cars, each nudged.
      const rows = Array.from({ length: 12 }, (_, k) =>
        cars().map((r) => ({ ...r, Weight_in_lbs: Number(r.Weight_in_lbs) + k / 10 })),
      ).flat();
      const text = toDelimited(rows, CAR_COLUMNS);
      const res = await upload('cars-x12', text, 'format=csv&label=Miles_per_Gallon&missing=drop');
      expect(res.status).toBe(201);
      // The importer reports while it profiles the file (rows not counted yet) and while it
      // builds shards; events may trail the answer by a moment.
      await expect.poll(() => heardAll.some((p) => p.rows >= 4096)).toBe(true);
      for (const p of heardAll)
        expect(p).toMatchObject({ name: 'cars-x12', bytesTotal: Buffer.byteLength(text) });
    } finally {
      socket.close();
    }
  });

  it('describes every dataset route in the OpenAPI document with a summary and an operationId', async () => {
    const doc = (await api('/openapi.json')).body;
    const ops = Object.entries(
      doc.paths as Record<string, Record<string, { summary?: string; operationId?: string }>>,
    )
      .filter(([path]) => path.startsWith('/datasets'))
      .flatMap(([, methods]) => Object.values(methods));
    expect(ops.map((o) => o.operationId).sort()).toEqual([
      'deleteDatasetVersion',
      'getDatasetVersion',
      'importDatasetVersion',
      'listDatasetVersions',
      'listDatasets',
    ]);
    for (const op of ops) expect(op.summary).toBeTruthy();
  });

  it('trains a regression job on cars (Miles_per_Gallon) with Node contributors and reports test R2', async () => {
    const res = await upload(
      'cars',
      toDelimited(cars(), CAR_COLUMNS),
      'format=csv&label=Miles_per_Gallon&task=regression&missing=drop&shardSize=32&fileName=cars.csv',
    );
    expect(res.status).toBe(201);
    const dataset = await res.json();
    expect(dataset.task).toEqual({ kind: 'regression', numTargets: 1 });
    const features = dataset.schema.inputShape[0];
    const spec = jobSpecSchema.parse({
      name: 'cars mpg',
      dataset: 'cars',
      model: await denseModel(features, 1, 'linear'),
      hyperparameters: { batchSize: 32, localSteps: 20, learningRate: 0.01, optimizer: 'adam' },
      rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 },
      stopping: { maxRounds: 4 },
    });
    const job = await api('/jobs', { method: 'POST', body: JSON.stringify(spec) });
    expect(job.status).toBe(201);
    const contributors: Contributor[] = [0, 1].map(() =>
      createNodeContributor({ coordinatorUrl: co.url, benchmarkMs: 100, log: () => {} }),
    );
    try {
      await Promise.all(contributors.map((c) => c.start()));
      while ((await api(`/jobs/${job.body.id}`)).body.status === 'running')
        await new Promise((r) => setTimeout(r, 200));
    } finally {
      for (const c of contributors) await c.stop();
    }
    expect((await api(`/jobs/${job.body.id}`)).body.status).toBe('completed');
    const versions = (await api(`/jobs/${job.body.id}/versions`)).body;
    const last = versions.at(-1);
    expect(last.round).toBe(4);
    expect(last.metrics.testAccuracy).toBeNull();
    // Four short rounds on standardized targets already explain most of the variance.
    expect(last.metrics.testR2).toBeGreaterThan(0.5);
    expect(last.metrics.testMae).toBeGreaterThan(0);
  }, 180_000);
});
