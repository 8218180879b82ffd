/**
 * Out of the box: a coordinator started as `npm start` starts it (demo job on, real
 * Fashion-MNIST), trained for a round or two by a Node contributor, and the inference example
 * opened with no query string. The example's defaults (model `fashion`, alias `production`)
 * must find the demo job's auto-promoted version and predict, with no admin step between.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JobView } from '@gridtab/shared';
import { expect } from '@playwright/test';
import { type CoordinatorProcess, startCoordinator } from './coordinator.ts';
import { test } from './diagnose.ts';

const root = resolve(import.meta.dirname, '..');
const PAGE = '/examples/fashion-classifier/';
const LABELS = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

test.describe('the inference example with npm start defaults', () => {
  let co: CoordinatorProcess;
  let trainer: ChildProcess | null = null;

  test.afterAll(async () => {
    if (trainer && trainer.exitCode === null) {
      const exited = new Promise((r) => trainer!.once('exit', r));
      trainer.kill('SIGTERM');
      await exited;
    }
    await co?.stop();
  });

  test('predicts with the demo job production version, loaded by the default names', async ({ page }) => {
    test.setTimeout(300_000);
    if (!existsSync(resolve(root, `client/dist${PAGE}index.html`)))
      execFileSync(
        'npx',
        ['vite', 'build', '-c', 'examples/fashion-classifier/vite.config.ts', '--logLevel', 'warn'],
        { cwd: root, stdio: 'inherit' },
      );
    co = await startCoordinator({ GRIDTAB_DEMO_JOB: '1' });
    const jobs = (await (await fetch(`${co.url}/api/jobs`)).json()) as JobView[];
    expect(jobs).toHaveLength(1);
    const demo = jobs[0];

    // train-node.ts trains until the job ends (60 rounds here): it is stopped once promoted.
    trainer = spawn(process.execPath, ['--import', 'tsx', 'e2e/train-node.ts', co.url, demo.id], {
      cwd: root,
      stdio: 'inherit',
    });
    const aliasUrl = `${co.url}/api/models/fashion/aliases/production`;
    // A poll can meet a keep-alive socket the server closes after an evaluation of the 10k test
    // images blocked its event loop (ECONNRESET): that poll counts as "not yet", not a failure.
    const aliasStatus = () =>
      fetch(aliasUrl)
        .then((r) => r.status)
        .catch(() => 0);
    await expect.poll(aliasStatus, { timeout: 240_000, intervals: [500] }).toBe(200);
    const alias = (await (await fetch(aliasUrl)).json()) as { versionId: string };
    const versions = await co.versions(demo.id);
    expect(versions.map((v) => v.id)).toContain(alias.versionId);

    await page.goto(`${co.url}${PAGE}`);
    // The alias may move again while the page loads (training goes on): any demo version will do.
    await expect(page.getByTestId('version')).toHaveText(/^(?!loading)\S+/, { timeout: 60_000 });
    const shown = (await page.getByTestId('version').textContent())!;
    expect((await co.versions(demo.id)).map((v) => v.id)).toContain(shown);
    await page.getByTestId('sample').click();
    await expect(page.getByTestId('confidence')).toHaveText(/^\d+\.\d%$/);
    expect(LABELS).toContain(await page.getByTestId('label').textContent());
    await expect(page.getByTestId('error')).toHaveText('');
  });
});
