/**
 * Every hostile spec of the shared table is refused by job creation, sweep creation and model
 * import with INVALID_MODEL_SPEC, a message naming the layer or field, and nothing stored; the
 * coordinator keeps answering health checks while a burst of them arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';
import { HOSTILE_SPECS, hostileBody } from './hostile-specs.ts';

const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };

const ROUTES: { route: string; path: string; place: (model: Record<string, unknown>) => unknown }[] = [
  { route: 'job creation', path: '/api/jobs', place: (model) => ({ ...TEST_JOB, model }) },
  {
    route: 'sweep creation',
    path: '/api/sweeps',
    place: (model) => ({
      name: 'hostile sweep',
      base: { ...TEST_JOB, model },
      space: { 'hyperparameters.learningRate': { type: 'choice', values: [0.001, 0.01] } },
      method: { name: 'grid' },
      budget: { maxTrials: 2 },
      metric: 'testAccuracy',
    }),
  },
  {
    route: 'model import',
    path: '/api/models/hostile/import',
    place: (modelTopology) => ({ modelJson: { modelTopology, weightsManifest: [] }, weights: '' }),
  },
];

describe('hostile model specs', () => {
  let co: TestCoordinator;
  const stored = async () => ({
    jobs: (await co.store.listJobs()).length,
    sweeps: (await co.store.sweeps.listSweeps()).length,
    models: (await co.registry.listModels()).length,
  });

  beforeAll(async () => {
    co = await startTestCoordinator();
  });
  afterAll(async () => co.destroy());

  for (const { route, path, place } of ROUTES) {
    it(`${route} refuses each with INVALID_MODEL_SPEC naming the field, storing nothing`, async () => {
      const before = await stored();
      for (const spec of HOSTILE_SPECS) {
        const res = await fetch(`${co.url}${path}`, {
          method: 'POST',
          headers: ADMIN,
          body: hostileBody(spec, place),
        });
        const body = await res.json();
        expect([spec.name, res.status, body.error?.code]).toEqual([spec.name, 400, 'INVALID_MODEL_SPEC']);
        expect(body.error.message, spec.name).toMatch(spec.names);
      }
      expect(await stored()).toEqual(before);
    });
  }

  it('answers health while a burst of hostile specs arrives', async () => {
    const burst = ROUTES.flatMap(({ path, place }) =>
      HOSTILE_SPECS.map((spec) =>
        fetch(`${co.url}${path}`, { method: 'POST', headers: ADMIN, body: hostileBody(spec, place) }).then(
          (r) => r.status,
        ),
      ),
    );
    const health = Array.from({ length: 5 }, () => fetch(`${co.url}/api/health`).then((r) => r.json()));
    expect(await Promise.all(health)).toEqual(Array(5).fill({ ok: true }));
    expect(new Set(await Promise.all(burst))).toEqual(new Set([400]));
  });
});
