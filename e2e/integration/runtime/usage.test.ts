/**
 * Usage accounting end to end: Node contributors train a job against a real coordinator, and
 * what the coordinator counts for the job agrees with what the tabs measured on their side.
 */

import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import { addJob, startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import { afterEach, describe, expect, it } from 'vitest';

const PARAMS = 101_770; // the MLP preset, sent fp32

describe('usage accounting with real contributors', () => {
  let co: TestCoordinator | null = null;
  let contributors: Contributor[] = [];
  afterEach(async () => {
    for (const c of contributors) await c.stop();
    contributors = [];
    await co?.destroy();
    co = null;
  });

  it('bytes down and up, samples and units agree with what the tabs downloaded and trained', async () => {
    co = await startTestCoordinator();
    const job = await addJob(co, { stopping: { maxRounds: 2 } });
    contributors = [0, 1].map(() => createNodeContributor({ coordinatorUrl: co!.url, benchmarkMs: 100 }));
    await Promise.all(contributors.map((c) => c.start()));
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 90_000, interval: 200 })
      .toBe('completed');
    for (const c of contributors) await c.stop();
    const updates = (await Promise.all([1, 2].map((r) => co!.store.listUpdates(job.id, r)))).flat();
    const usage = await (await fetch(`${co.url}/api/jobs/${job.id}/usage`)).json();
    const downloaded = contributors.reduce(
      (n, c) => n + (c as unknown as { fetchStats: { bytesDownloaded: number } }).fetchStats.bytesDownloaded,
      0,
    );
    expect(downloaded).toBeGreaterThan(0);
    expect(Math.abs(usage.totals.bytesDown - downloaded) / downloaded).toBeLessThan(0.01);
    const sent = updates.length * PARAMS * 4;
    expect(Math.abs(usage.totals.bytesUp - sent) / sent).toBeLessThan(0.01);
    expect(usage.totals.units).toBe(updates.length);
    expect(usage.totals.samples).toBe(updates.reduce((n, u) => n + u.numSamples, 0));
    // Node contributors train on wasm: CPU-class device time, measured by the tabs.
    expect(usage.totals.cpuDeviceMs).toBeGreaterThan(0);
    expect(usage.totals.gpuMs).toBe(0);
  });
});
