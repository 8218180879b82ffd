/**
 * First start: the demo job is published under the names the inference example loads by
 * default (`fashion`, alias `production`), and its first trained version is promoted there
 * without an admin, so `npm start` plus the example page predicts out of the box.
 */
import { createNodeContributor } from '@gridtab/client/runtime';
import { startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ALIAS, DEMO_MODEL } from '../../../coordinator/src/bootstrap.ts';

describe('demo job on first start', () => {
  let co: TestCoordinator;

  beforeAll(async () => {
    co = await startTestCoordinator({ demoJob: true });
  });
  afterAll(async () => co.destroy());

  it('publishes the demo job as fashion with production auto-promotion', async () => {
    const [job] = await co.store.listJobs();
    expect(job).toBeDefined();
    const model = await co.registry.model(DEMO_MODEL);
    expect(model).toMatchObject({
      jobId: job.id,
      autoPromote: { alias: DEMO_ALIAS, metric: 'testAccuracy' },
    });
    // No version is trained yet: the alias does not exist, and says so with a typed error.
    const before = await fetch(`${co.url}/api/models/${DEMO_MODEL}/aliases/${DEMO_ALIAS}`);
    expect(before.status).toBe(404);
  });

  it('moves production to the first trained version once a contributor trains a round', async () => {
    const [job] = await co.store.listJobs();
    const contributor = createNodeContributor({ coordinatorUrl: co.url, benchmarkMs: 50 });
    await contributor.start();
    try {
      await expect
        .poll(async () => (await fetch(`${co.url}/api/models/${DEMO_MODEL}/aliases/${DEMO_ALIAS}`)).status, {
          timeout: 120_000,
          interval: 250,
        })
        .toBe(200);
    } finally {
      await contributor.stop();
    }
    const alias = await (await fetch(`${co.url}/api/models/${DEMO_MODEL}/aliases/${DEMO_ALIAS}`)).json();
    const version = await co.store.getVersion(alias.versionId);
    expect(version?.jobId).toBe(job.id);
    expect(version?.round).toBeGreaterThanOrEqual(1);
    const history = await (
      await fetch(`${co.url}/api/models/${DEMO_MODEL}/aliases/${DEMO_ALIAS}/history`)
    ).json();
    expect(history[0]).toMatchObject({ actor: 'auto', versionId: alias.versionId });
  });
});
