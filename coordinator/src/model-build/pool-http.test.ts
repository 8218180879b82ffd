/**
 * The HTTP routes through the coordinator's real build pool. Every other HTTP test builds specs
 * in-thread (testing.ts says why), so this is the one that proves job creation reaches a worker
 * thread and back: the costliest legal spec is created with its round-0 weights whole, a spec
 * TF.js refuses in the worker keeps its INVALID_MODEL_SPEC code, and a model that builds but does
 * not fit the dataset gets DATASET_MODEL_MISMATCH from the worker's shapes.
 */
import { MODEL_PRESETS } from '@gridtab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COSTLY_SPECS } from '../http/costly-specs.ts';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';
import { BuildPool } from './build-pool.ts';

const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
let co: TestCoordinator;

beforeAll(async () => {
  // builder: undefined is the coordinator's own pool (config.security.build), as `npm start` runs.
  co = await startTestCoordinator({}, { builder: undefined });
});
afterAll(async () => {
  await co?.destroy();
});

const createJob = (model: unknown) =>
  fetch(`${co.url}/api/jobs`, {
    method: 'POST',
    headers: ADMIN,
    body: JSON.stringify({ ...TEST_JOB, model }),
  });

/** The MLP preset with its layers changed by `edit`. */
function mlp(edit: (layers: { class_name: string; config: Record<string, unknown> }[]) => void) {
  const m = structuredClone(MODEL_PRESETS['fashion-mlp']) as unknown as {
    config: { layers: { class_name: string; config: Record<string, unknown> }[] };
  };
  edit(m.config.layers);
  return m;
}

describe('job creation through the build pool', () => {
  it('builds the costliest legal spec in a worker and stores its round-0 weights', async () => {
    expect(co.builder).toBeInstanceOf(BuildPool);
    const widest = COSTLY_SPECS[0];
    const res = await createJob(widest.model);
    expect(res.status).toBe(201);
    const job = (await res.json()) as { id: string };
    // A worker thread did the build and is still there (idle workers end after a minute).
    expect((co.builder as BuildPool).load.workers).toBe(1);
    const [round0] = await co.store.listVersions(job.id);
    const bytes = await co.blobs.get(round0.hash);
    expect(bytes?.byteLength).toBe(widest.params * 4);
    expect(new Float32Array(bytes!.buffer, bytes!.byteOffset, widest.params).every(Number.isFinite)).toBe(
      true,
    );
  }, 180_000);

  it('keeps the code of a spec TF.js refuses in the worker', async () => {
    const res = await createJob(
      mlp((layers) => Object.assign(layers[1].config, { activation: 'no_such_activation' })),
    );
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, body.error.code]).toEqual([400, 'INVALID_MODEL_SPEC']);
    expect(body.error.message).toMatch(/does not build/);
  }, 180_000);

  it('checks the built model against the dataset', async () => {
    const res = await createJob(mlp((layers) => Object.assign(layers[2].config, { units: 7 })));
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, body.error.code]).toEqual([400, 'DATASET_MODEL_MISMATCH']);
    expect(body.error.message).toMatch(/outputs \[7\]/);
  }, 180_000);
});
