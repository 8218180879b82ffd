import { request } from 'node:http';
import { MODEL_PRESETS } from '@gridtab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';

describe('HTTP API', () => {
  let co: TestCoordinator;
  const admin = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
  const post = (path: string, body: unknown, headers: Record<string, string> = admin) =>
    fetch(`${co.url}${path}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const jobCount = async () => (await co.store.listJobs()).length;

  beforeAll(async () => {
    co = await startTestCoordinator();
  });
  afterAll(async () => co.destroy());

  it('answers health and lists jobs in the public shape', async () => {
    expect(await (await fetch(`${co.url}/api/health`)).json()).toEqual({ ok: true });
    const res = await post('/api/jobs', TEST_JOB);
    expect(res.status).toBe(201);
    const created = await res.json();
    const jobs = await (await fetch(`${co.url}/api/jobs`)).json();
    expect(jobs).toContainEqual(created);
    expect(Object.keys(created)).toEqual(
      expect.arrayContaining(['id', 'name', 'status', 'round', 'versionId', 'metrics']),
    );
    expect(created.metrics).toEqual({ testAccuracy: null, testLoss: null });
    expect(created).toMatchObject({ codec: { name: 'fp32' }, aggregation: { rule: 'mean' } });
    expect(await (await fetch(`${co.url}/api/jobs/${created.id}`)).json()).toEqual(created);
    const versions = await (await fetch(`${co.url}/api/jobs/${created.id}/versions`)).json();
    expect(versions).toHaveLength(1);
  });

  it('creates a job with a codec and an aggregation rule and shows them', async () => {
    const res = await post('/api/jobs', {
      ...TEST_JOB,
      name: 'compressed',
      codec: { name: 'int8' },
      aggregation: { rule: 'median' },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      codec: { name: 'int8', blockSize: 256 },
      aggregation: { rule: 'median' },
    });
    const async = await post('/api/jobs', {
      ...TEST_JOB,
      name: 'async',
      strategy: { name: 'buffered', bufferSize: 3 },
    });
    expect(async.status).toBe(201);
    expect(await async.json()).toMatchObject({ strategy: 'buffered' });
    const bad = await post('/api/jobs', { ...TEST_JOB, name: 'zipped', codec: { name: 'zip' } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('BAD_REQUEST');
  });

  it('refuses job creation without the admin token, with 401 and nothing stored', async () => {
    const before = await jobCount();
    for (const headers of [
      { 'content-type': 'application/json' },
      { ...admin, authorization: 'Bearer wrong' },
    ]) {
      const res = await post('/api/jobs', TEST_JOB, headers);
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('UNAUTHORIZED');
    }
    expect(await jobCount()).toBe(before);
  });

  it('refuses malformed and invalid specs with 400 and a code, storing nothing', async () => {
    const before = await jobCount();
    const cases: [unknown, string][] = [
      ['{not json', 'BAD_REQUEST'],
      [{ name: 'x' }, 'BAD_REQUEST'],
      [{ ...TEST_JOB, hyperparameters: { batchSize: -1 } }, 'BAD_REQUEST'],
      [{ ...TEST_JOB, extra: 1 }, 'BAD_REQUEST'],
      [{ ...TEST_JOB, strategy: { name: 'buffered', bufferSize: 0 } }, 'BAD_REQUEST'],
      [{ ...TEST_JOB, strategy: { name: 'diloco', outerMomentum: 1.5 } }, 'BAD_REQUEST'],
      [{ ...TEST_JOB, strategy: 'gossip' }, 'BAD_REQUEST'],
      [{ ...TEST_JOB, dataset: 'nope' }, 'UNKNOWN_DATASET'],
      [
        {
          ...TEST_JOB,
          model: {
            class_name: 'Sequential',
            config: { layers: [{ class_name: 'NoSuchLayer', config: {} }] },
          },
        },
        'INVALID_MODEL_SPEC',
      ],
      [
        {
          ...TEST_JOB,
          model: {
            class_name: 'Sequential',
            config: {
              layers: [{ class_name: 'Dense', config: { units: 10, batch_input_shape: [null, 5] } }],
            },
          },
        },
        'DATASET_MODEL_MISMATCH',
      ],
    ];
    for (const [body, code] of cases) {
      const res = await post('/api/jobs', body as object);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect((await res.json()).error.code).toBe(code);
    }
    expect(await jobCount()).toBe(before);
  });

  it('refuses an oversized body with 413', async () => {
    // A connection of its own: the server answers before reading the body and closes it.
    const body = JSON.stringify({ ...TEST_JOB, name: 'x'.repeat(2 * 1024 * 1024) });
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${co.url}/api/jobs`, { method: 'POST', headers: admin, agent: false }, (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(413);
    expect(JSON.parse(text).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('pauses, resumes and cancels a job; unknown jobs are 404', async () => {
    const job = await (await post('/api/jobs', { ...TEST_JOB, model: MODEL_PRESETS['fashion-cnn'] })).json();
    expect((await (await post(`/api/jobs/${job.id}/pause`, {})).json()).status).toBe('paused');
    expect((await (await post(`/api/jobs/${job.id}/resume`, {})).json()).status).toBe('running');
    expect((await (await post(`/api/jobs/${job.id}/cancel`, {})).json()).status).toBe('cancelled');
    expect((await post(`/api/jobs/${job.id}/resume`, {})).status).toBe(409);
    expect((await post(`/api/jobs/${job.id}/pause`, {}, {})).status).toBe(401);
    const missing = await fetch(`${co.url}/api/jobs/j-missing`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('NOT_FOUND');
  });

  it('serves shards with immutable caching and 404s unknown ones', async () => {
    const dataset = (await co.store.getDataset('fashion-mnist@1'))!;
    const res = await fetch(`${co.url}/datasets/shards/${dataset.shardHashes[0]}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('immutable');
    // Shard format v2: a 24-byte header, u8 pixels (padded to 4 bytes), then u16 class labels.
    expect((await res.arrayBuffer()).byteLength).toBe(24 + dataset.shardSize * 784 + dataset.shardSize * 2);
    expect((await fetch(`${co.url}/datasets/shards/${'0'.repeat(64)}`)).status).toBe(404);
  });

  it('publishes an OpenAPI document and Prometheus metrics', async () => {
    const doc = await (await fetch(`${co.url}/api/openapi.json`)).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/jobs', '/jobs/{id}', '/health']));
    const metrics = await fetch(`${co.url}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toMatch(/# TYPE gridtab_updates_accepted_total counter/);
    expect(text).toMatch(/gridtab_process_resident_memory_bytes \d+/);
  });
});
