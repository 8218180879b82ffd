import type { UpdateMeta, WorkUnit } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { configFromEnv } from '../config.ts';
import { addJob, startTestCoordinator, TEST_JOB, type TestCoordinator, updateMetaFor } from '../testing.ts';

const PARAMS = 101_770; // the MLP preset
const SAMPLES = 32 * 10; // TEST_JOB: batch 32, 10 local steps
const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };

async function take(co: TestCoordinator, who: string): Promise<WorkUnit> {
  const offer = await co.scheduler.requestUnit(who);
  if (!offer.unit) throw new Error('no unit offered');
  return offer.unit;
}

function submit(co: TestCoordinator, who: string, unit: WorkUnit, extra: Partial<UpdateMeta> = {}) {
  const payload = new Uint8Array(PARAMS * 4);
  const meta = updateMetaFor(unit, payload, { trainMs: 100, ...extra });
  return co.scheduler.submit(who, meta, payload).then(() => payload.byteLength);
}

const get = async (co: TestCoordinator, path: string) => {
  const res = await fetch(`${co.url}${path}`);
  return { status: res.status, body: await res.json() };
};

describe('usage accounting', () => {
  let co: TestCoordinator;
  afterEach(async () => co?.destroy());

  it('counts a run with known work: samples, units, device time by class, bytes on both ends', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 });
    const job = await addJob(co, { stopping: { maxRounds: 5 } });
    let bytesUp = 0;
    let bytesDown = 0;
    for (let round = 0; round < 2; round++) {
      for (const who of ['gpu-tab', 'cpu-tab', 'cpu-tab']) {
        const unit = await take(co, who);
        // What a tab downloads for a unit: the base weights and its shards, naming the job.
        for (const path of [
          `/models/weights/${unit.baseWeightsHash}`,
          ...unit.shardHashes.map((h) => `/datasets/shards/${h}`),
        ]) {
          const res = await fetch(`${co.url}${path}?job=${job.id}`);
          expect(res.status).toBe(200);
          bytesDown += (await res.arrayBuffer()).byteLength;
        }
        bytesUp += await submit(co, who, unit, { backend: who === 'gpu-tab' ? 'webgpu' : 'wasm' });
      }
      await co.scheduler.idle();
    }
    // A fetch without ?job= is served and attributed to no job.
    expect(
      (await fetch(`${co.url}/models/weights/${(await co.store.listVersions(job.id))[0]!.hash}`)).status,
    ).toBe(200);

    const { status, body } = await get(co, `/api/jobs/${job.id}/usage`);
    expect(status).toBe(200);
    expect(body.totals).toMatchObject({ samples: 6 * SAMPLES, units: 6, gpuMs: 200, cpuDeviceMs: 400 });
    expect(body.totals.deviceHours).toBeCloseTo(600 / 3_600_000, 12);
    expect(Math.abs(body.totals.bytesDown - bytesDown) / bytesDown).toBeLessThan(0.01);
    expect(Math.abs(body.totals.bytesUp - bytesUp) / bytesUp).toBeLessThan(0.01);
    expect(body.totals.coordinatorCpuMs).toBeGreaterThan(0);
    // Zero updates leave the weights as they were: the three versions share one blob (content
    // addressing), the six updates another; each counted once.
    expect(body.storageBytes).toBe(2 * PARAMS * 4);
    const byContributor = Object.fromEntries(body.byContributor.map((l: { key: string }) => [l.key, l]));
    expect(byContributor['gpu-tab']).toMatchObject({ units: 2, gpuMs: 200, samples: 2 * SAMPLES });
    expect(byContributor['cpu-tab']).toMatchObject({ units: 4, cpuDeviceMs: 400, samples: 4 * SAMPLES });

    // Flushed, the store holds the same totals; Prometheus counted them too.
    await co.usage.meter.flush();
    const stored = await co.store.usage.list({ jobId: job.id });
    expect(stored.reduce((n, r) => n + r.samples, 0)).toBe(6 * SAMPLES);
    expect(stored.reduce((n, r) => n + r.bytesDown, 0)).toBe(bytesDown);
    const metrics = await (await fetch(`${co.url}/metrics`)).text();
    expect(metrics).toContain(`gridtab_usage_samples_total{job="${job.id}"} ${6 * SAMPLES}`);
    expect(metrics).toContain(`gridtab_usage_bytes_total{job="${job.id}",direction="up"} ${bytesUp}`);

    const byJob = await get(co, '/api/usage?group=job');
    expect(byJob.body.lines.find((l: { key: string }) => l.key === job.id)).toMatchObject({
      samples: 6 * SAMPLES,
    });
    const today = new Date().toISOString().slice(0, 10);
    const byDay = await get(co, `/api/usage?group=day&from=${today}&to=${today}`);
    expect(byDay.body.lines.map((l: { key: string }) => l.key)).toEqual([today]);
    expect((await get(co, '/api/usage?group=day&to=2000-01-01')).body.lines).toEqual([]);
  });

  it('refuses bad usage queries and a ?job= that names no job, counting nothing', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 });
    const job = await addJob(co);
    const weights = (await co.store.listVersions(job.id))[0]!.hash;
    for (const q of ['group=week', 'from=2026-13-01', 'from=2026-02-02&to=2026-02-01', 'to=yesterday']) {
      const res = await get(co, `/api/usage?${q}`);
      expect([q, res.status, res.body.error.code]).toEqual([q, 400, 'BAD_REQUEST']);
    }
    expect((await get(co, `/models/weights/${weights}?job=../../x`)).body.error.code).toBe('BAD_REQUEST');
    expect((await get(co, `/models/weights/${weights}?job=j-nothere`)).body.error.code).toBe('NOT_FOUND');
    expect((await get(co, '/api/jobs/j-nothere/usage')).status).toBe(404);
    await co.usage.meter.flush();
    expect(await co.store.usage.list({})).toEqual([]);
    const doc = (await get(co, '/api/openapi.json')).body;
    expect(doc.paths['/usage'].get.operationId).toBe('listUsage');
    expect(doc.paths['/jobs/{id}/usage'].get.operationId).toBe('getJobUsage');
    expect(doc.paths['/jobs/{id}/budget'].post.operationId).toBe('setJobBudget');
  });
});

describe('budgets', () => {
  let co: TestCoordinator;
  afterEach(async () => co?.destroy());

  it('pauses a job when a samples budget is reached, with the reason in the job view and an alert', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 });
    const job = await addJob(co, { budget: { samples: 2 * SAMPLES, alertAt: [0.5, 1] } });
    await submit(co, 'a', await take(co, 'a'));
    await co.usage.guard.settled();
    expect((await co.store.getJob(job.id))?.status).toBe('running');
    expect(co.usage.guard.findings()).toEqual([
      { rule: 'budget', subject: job.id, message: 'budget samples at 50%' },
    ]);
    const last = await take(co, 'c');
    await submit(co, 'b', await take(co, 'b'));
    await co.usage.guard.settled();
    expect((await co.store.getJob(job.id))?.status).toBe('paused');
    const view = (await get(co, `/api/jobs/${job.id}`)).body;
    expect(view.budget).toMatchObject({
      state: 'exceeded',
      reason: `budget reached: samples ${2 * SAMPLES} of ${2 * SAMPLES}`,
      limits: { samples: { spent: 2 * SAMPLES, limit: 2 * SAMPLES } },
    });
    expect(co.usage.guard.findings()[0]?.message).toBe('budget samples at 100%');
    // Nothing more is accepted or handed out.
    await expect(submit(co, 'c', last)).rejects.toMatchObject({ code: 'JOB_NOT_RUNNING' });
    expect((await co.scheduler.requestUnit('d')).unit).toBeNull();
  });

  it('stops a job at its wall-time limit with onExceed: stop', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, { budget: { wallTimeMs: 60_000, onExceed: 'stop' } });
    await co.usage.guard.checkAll();
    expect((await co.store.getJob(job.id))?.status).toBe('running');
    clock.advance(60_000);
    await co.usage.guard.checkAll();
    expect((await co.store.getJob(job.id))?.status).toBe('cancelled');
  });

  it('a budget lowered below what is spent pauses the job at once; a raised one lets it resume', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 });
    const job = await addJob(co);
    await submit(co, 'a', await take(co, 'a'));
    const post = (body: unknown) =>
      fetch(`${co.url}/api/jobs/${job.id}/budget`, {
        method: 'POST',
        headers: ADMIN,
        body: JSON.stringify(body),
      });
    const lowered = await post({ samples: SAMPLES });
    expect(lowered.status).toBe(200);
    expect(await lowered.json()).toMatchObject({ status: 'paused', budget: { state: 'exceeded' } });
    expect((await co.store.getJob(job.id))?.status).toBe('paused');
    const raised = await (await post({ samples: 100 * SAMPLES })).json();
    expect(raised).toMatchObject({ status: 'paused', budget: { state: 'ok', reason: null } });
    const resumed = await fetch(`${co.url}/api/jobs/${job.id}/resume`, { method: 'POST', headers: ADMIN });
    expect((await resumed.json()).status).toBe('running');
  });

  it('refuses bad budgets with INVALID_BUDGET and stores nothing', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 });
    const job = await addJob(co);
    const before = (await co.store.listJobs()).length;
    const bad = [
      '{"samples": -1}',
      '{"deviceHours": 0}',
      '{"bytes": 1e999}', // JSON.parse reads it as Infinity
      '{}',
      '{"samples": 10, "alertAt": [0.8, 0.5]}',
      '{"samples": 10, "alertAt": [1.5]}',
      '{"samples": 10, "onExceed": "explode"}',
      '{"cost": 5}', // no price table to measure it against
    ];
    for (const budget of bad) {
      const body = `{"name":"b","model":${JSON.stringify(TEST_JOB.model)},"dataset":"${TEST_JOB.dataset}","budget":${budget}}`;
      const res = await fetch(`${co.url}/api/jobs`, { method: 'POST', headers: ADMIN, body });
      const answer = await res.json();
      expect([budget, res.status, answer.error?.code]).toEqual([budget, 400, 'INVALID_BUDGET']);
      if (budget === '{"cost": 5}') continue; // refused by the coordinator, not the schema
      const set = await fetch(`${co.url}/api/jobs/${job.id}/budget`, {
        method: 'POST',
        headers: ADMIN,
        body: budget,
      });
      expect([budget, set.status, (await set.json()).error?.code]).toEqual([budget, 400, 'INVALID_BUDGET']);
    }
    expect((await co.store.listJobs()).length).toBe(before);
    expect((await co.store.getJob(job.id))?.spec.budget).toBeUndefined();
  });

  it('refuses a new job with STORAGE_QUOTA once the blob store holds the quota, storing nothing', async () => {
    const usage = { ...configFromEnv({}).usage, storageQuotaBytes: 1000 };
    co = await startTestCoordinator({ tickMs: 1e9, usage });
    const body = JSON.stringify({ name: 'q', model: TEST_JOB.model, dataset: TEST_JOB.dataset });
    const res = await fetch(`${co.url}/api/jobs`, { method: 'POST', headers: ADMIN, body });
    expect(res.status).toBe(507);
    expect((await res.json()).error.code).toBe('STORAGE_QUOTA');
    expect(await co.store.listJobs()).toEqual([]);
    await expect(co.usage.quota.checkQuota(0)).rejects.toMatchObject({ code: 'STORAGE_QUOTA' });
    // A dataset import is refused the same way, before any shard is written.
    const blobsBefore: string[] = [];
    for await (const b of co.blobs.list()) blobsBefore.push(b.hash);
    const csv = 'a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n';
    const upload = await fetch(`${co.url}/api/datasets/tiny/versions?format=csv&label=label`, {
      method: 'POST',
      headers: { authorization: ADMIN.authorization, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(upload.status).toBe(507);
    expect((await upload.json()).error.code).toBe('STORAGE_QUOTA');
    expect(await co.store.listDatasetVersions('tiny')).toEqual([]);
    const blobsAfter: string[] = [];
    for await (const b of co.blobs.list()) blobsAfter.push(b.hash);
    expect(blobsAfter.sort()).toEqual(blobsBefore.sort());
  });
});
