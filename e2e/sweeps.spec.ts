/**
 * The console's Sweeps page in real Chromium against a real coordinator: the form refuses a
 * bad sweep with the API's code (and nothing is stored), starts a small one, Node contributors
 * train its trials, and the page shows the trials, their curves and the metric against the
 * parameter, then promotes the best version. Screenshots go to the test's output folder.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { SweepView } from '@gridtab/shared';
import { expect } from '@playwright/test';
import { ADMIN_TOKEN, type CoordinatorProcess, startCoordinator } from './coordinator.ts';
import { test } from './diagnose.ts';

const sweep = (budget: object) => ({
  name: 'e2e sweep',
  base: {
    name: 'base',
    model: 'fashion-mlp',
    dataset: 'fashion-mnist',
    hyperparameters: { batchSize: 32, localSteps: 20 },
    rounds: { unitsPerRound: 1 },
    stopping: { maxRounds: 2 },
  },
  space: { 'hyperparameters.learningRate': { type: 'choice', values: [0.001, 0.003] } },
  method: { name: 'grid' },
  budget,
  metric: 'testAccuracy',
  concurrency: 2,
});

/** Trains a job with one Node contributor in a child process until the job ends. */
function trainNode(url: string, jobId: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/train-node.ts', url, jobId], {
    cwd: resolve(import.meta.dirname, '..'),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((r) => child.once('exit', (code) => r({ code, stderr: stderr.slice(-2000) })));
}

test.describe('sweeps page', () => {
  let co: CoordinatorProcess;
  test.beforeEach(async () => {
    co = await startCoordinator();
  });
  test.afterEach(async () => co?.stop());

  test('an admin starts a sweep, watches its trials and promotes the best', async ({ page }, info) => {
    test.setTimeout(240_000);
    await page.goto(`${co.url}/admin`);
    await page.getByLabel('Token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Sweeps' }).click();

    const form = page.getByTestId('sweep-form');
    await form.getByLabel('Sweep (JSON)').fill(JSON.stringify(sweep({ maxTrials: 0 })));
    await form.getByRole('button', { name: 'Start sweep' }).click();
    await expect(form.getByRole('alert')).toContainText('INVALID_BUDGET');
    expect(await (await fetch(`${co.url}/api/sweeps`)).json()).toEqual([]);

    await form.getByLabel('Sweep (JSON)').fill(JSON.stringify(sweep({ maxTrials: 2 })));
    await form.getByRole('button', { name: 'Start sweep' }).click();
    await expect(page.getByTestId('trial-row')).toHaveCount(2);
    const id = decodeURIComponent(new URL(page.url()).hash.replace('#/sweeps/', ''));
    const view = (await (await fetch(`${co.url}/api/sweeps/${id}`)).json()) as SweepView;
    const exits = await Promise.all(view.trials!.map((t) => trainNode(co.url, t.jobId!)));
    expect(exits.map((e) => (e as { code: number }).code)).toEqual([0, 0]);

    await expect(page.getByTestId('trial-row').filter({ hasText: 'completed' })).toHaveCount(2, {
      timeout: 30_000,
    });
    // One curve chart and one scatter (one parameter), drawn on canvases.
    await expect(page.locator('canvas')).toHaveCount(2);
    await page.screenshot({ path: info.outputPath('console-sweep.png'), fullPage: true });

    await page.getByRole('button', { name: 'Promote best' }).click();
    await expect(page.getByRole('status')).toContainText('e2e-sweep:production');
    const best = ((await (await fetch(`${co.url}/api/sweeps/${id}`)).json()) as SweepView).best!;
    const alias = await (await fetch(`${co.url}/api/models/e2e-sweep/aliases/production`)).json();
    expect(alias.versionId).toBe(best.versionId);
  });
});
