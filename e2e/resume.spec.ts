/**
 * A real Chromium tab reloaded in the middle of a unit resumes it from IndexedDB (checkpointed
 * weights and optimizer state) under the same lease, instead of starting over.
 */
import { MODEL_PRESETS } from '@gridtab/shared';
import { expect } from '@playwright/test';
import { type CoordinatorProcess, startCoordinator } from './coordinator.ts';
import { test } from './diagnose.ts';

test.describe('resume after a reload', () => {
  let co: CoordinatorProcess;
  test.afterEach(async () => co?.stop());

  test('a tab reloaded mid-unit continues that unit and its update is accepted', async ({ page }) => {
    // The grace period must cover the reload (page load, TF.js start, rejoin).
    co = await startCoordinator({ GRIDTAB_DISCONNECT_GRACE_MS: '60000' });
    const job = await co.createJob({
      name: 'e2e resume',
      model: MODEL_PRESETS['fashion-mlp'],
      dataset: 'fashion-mnist',
      codec: { name: 'topk', fraction: 0.05 },
      hyperparameters: { batchSize: 64, localSteps: 600, learningRate: 0.001, optimizer: 'adam' },
      rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 600_000, leaseMs: 600_000 },
      stopping: { maxRounds: 1 },
    });
    const messages: string[] = [];
    page.on('console', (m) => messages.push(m.text()));
    await page.goto(`${co.url}/?autostart=1`);
    const pastAQuarter = () =>
      ((window as unknown as { __gridtab?: { state: { unitProgress: number } } }).__gridtab?.state
        .unitProgress ?? 0) > 0.25;
    await page.waitForFunction(pastAQuarter, null, {
      polling: 50,
      timeout: 240_000,
    });
    await page.waitForTimeout(2500); // a checkpoint is written at most every 2 s
    await page.reload();
    await expect
      .poll(async () => (await co.job(job.id)).status, { timeout: 300_000, intervals: [1000] })
      .toBe('completed');
    const resumed = messages.map((m) => /resuming unit (\S+) at step (\d+)/.exec(m)).find(Boolean);
    expect(Number(resumed?.[2])).toBeGreaterThan(0);
    const [, v1] = await co.versions(job.id);
    expect(v1.unitIds).toEqual([resumed?.[1]]);
    expect(co.log.some((l) => /expired|refused/.test(l))).toBe(false);
  });
});
