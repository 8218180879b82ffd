/**
 * The admin console in real Chromium against a real coordinator: sign in, create a job from
 * the form (after it refuses a bad value), watch a contributor tab appear, kick it, pause the
 * job; promote a version and roll it back on the Models page, watch the Telemetry charts and an
 * alert fire; and as a viewer, see everything and no control that changes anything. Each page
 * is saved as a screenshot in the test's output folder, at 1280x800 and at a phone width.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { MODEL_PRESETS } from '@gridtab/shared';
import { expect, type Page } from '@playwright/test';
import { ADMIN_TOKEN, type CoordinatorProcess, startCoordinator } from './coordinator.ts';
import { test } from './diagnose.ts';

const VIEWER_TOKEN = 'e2e-viewer-token';
/** A running job with no contributor for this long fires the no-progress alert. */
const NO_PROGRESS_MS = '3000';
const root = resolve(import.meta.dirname, '..');

async function signIn(page: Page, url: string, token: string) {
  await page.goto(`${url}/admin`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** True when nothing sticks out sideways (the page works without horizontal scrolling). */
const fitsWidth = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

test.describe('admin console', () => {
  let co: CoordinatorProcess;
  test.beforeEach(async () => {
    co = await startCoordinator({ VIEWER_TOKEN, GRIDTAB_ALERT_NO_PROGRESS_MS: NO_PROGRESS_MS });
  });
  test.afterEach(async () => {
    // The coordinator's log goes with a failed test's results.
    const info = test.info();
    if (info.status !== info.expectedStatus)
      await info.attach('coordinator.log', { body: co?.log.join('\n') ?? '' });
    await co?.stop();
  });

  test('an admin creates a job, sees a contributor join and pauses the job', async ({ browser }, info) => {
    test.setTimeout(180_000);
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, co.url, ADMIN_TOKEN);
    await expect(page.getByTestId('role')).toHaveText('admin');
    await expect(page.getByTestId('contributors-online')).toHaveText('0');

    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    const form = page.getByTestId('job-form');
    await form.getByLabel('Batch size').fill('0');
    await form.getByRole('button', { name: 'Create job' }).click();
    await expect(form.getByTestId('form-error')).toContainText('Batch size');
    expect(await (await fetch(`${co.url}/api/jobs`)).json()).toEqual([]);

    await form.getByLabel('Batch size').fill('64');
    await form.getByLabel('Name', { exact: true }).fill('console e2e');
    await form.getByRole('button', { name: 'Create job' }).click();
    const row = page.getByTestId('job-row').filter({ hasText: 'console e2e' });
    await expect(row.getByTestId('job-status')).toHaveText('running');
    await page.screenshot({ path: info.outputPath('console-jobs.png'), fullPage: true });

    const tab = await context.newPage();
    await tab.goto(`${co.url}/?autostart=1`);
    await page.getByRole('link', { name: 'Contributors' }).click();
    await expect(page.locator('[data-testid="contributor-row"][data-online="true"]')).toHaveCount(1, {
      timeout: 60_000,
    });
    await page.screenshot({ path: info.outputPath('console-contributors.png'), fullPage: true });

    await page.getByRole('link', { name: 'Overview' }).click();
    await expect(page.getByTestId('contributors-online')).toHaveText('1');
    await page.screenshot({ path: info.outputPath('console-overview.png'), fullPage: true });

    // Kick: the tab's socket is dropped and it stays out until it reloads.
    await page.getByRole('link', { name: 'Contributors' }).click();
    const online = page.locator('[data-testid="contributor-row"][data-online="true"]');
    await expect(online.getByText(/wasm|webgl|webgpu|cpu/).first()).toBeVisible();
    await online.getByRole('button', { name: 'Kick' }).click();
    await expect(tab.locator('.conn')).toHaveAttribute('data-connected', 'false');
    await expect(online).toHaveCount(0);
    // The kicked tab may still be finishing its unit on this 2-core machine; it has nothing more
    // to show here, so it does not keep competing with the console for the CPU.
    await tab.close();

    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await row.getByRole('button', { name: 'pause' }).click();
    await expect(row.getByTestId('job-status')).toHaveText('paused');
    const [job] = await (await fetch(`${co.url}/api/jobs`)).json();
    expect(job.status).toBe('paused');

    await row.getByRole('link', { name: 'console e2e' }).click();
    await expect(page.getByTestId('job-title')).toHaveText('console e2e');
    await page.screenshot({ path: info.outputPath('console-job-detail.png'), fullPage: true });

    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, name] of [
      ['#/overview', 'overview'],
      ['#/jobs', 'jobs'],
    ] as const) {
      await page.goto(`${co.url}/admin${hash}`);
      await expect(page.getByTestId('role')).toHaveText('admin');
      expect(await fitsWidth(page)).toBe(true);
      await page.screenshot({ path: info.outputPath(`console-${name}-phone.png`), fullPage: true });
    }
    await context.close();
  });

  test('an admin promotes and rolls back on Models, watches Telemetry and sees an alert fire', async ({
    page,
  }, info) => {
    test.setTimeout(240_000);
    const job = await co.createJob({
      name: 'models e2e',
      model: MODEL_PRESETS['fashion-mlp'],
      dataset: 'fashion-mnist',
      rounds: { unitsPerRound: 2 },
      hyperparameters: { localSteps: 20 },
      stopping: { maxRounds: 2 },
    });
    // A Node contributor trains the job to its end: two real versions with metrics and lineage.
    execFileSync(process.execPath, ['--import', 'tsx', 'e2e/train-node.ts', co.url, job.id], {
      cwd: root,
      stdio: 'inherit',
      timeout: 150_000,
    });
    const versions = (await co.versions(job.id)).filter((v) => v.round > 0);
    expect(versions).toHaveLength(2);
    const [first, second] = versions;
    // Nobody contributes to this one: after NO_PROGRESS_MS it fires the no-progress alert.
    const stalled = await co.createJob({
      name: 'stalled job',
      model: MODEL_PRESETS['fashion-mlp'],
      dataset: 'fashion-mnist',
    });

    await signIn(page, co.url, ADMIN_TOKEN);
    await page.getByRole('link', { name: 'Models', exact: true }).click();
    await page.getByRole('button', { name: 'models-e2e' }).click();
    const row = (id: string) => page.locator(`[data-testid="version-row"][data-version-id="${id}"]`);
    await expect(row(second.id)).toBeVisible();
    await row(second.id).getByRole('button', { name: 'Promote' }).click();
    const production = page.locator('[data-testid="alias-row"][data-alias="production"]');
    await expect(production.getByTestId('alias-version')).toHaveText(second.id);
    await row(first.id).getByRole('button', { name: 'Promote' }).click();
    await expect(production.getByTestId('alias-version')).toHaveText(first.id);
    await row(first.id).getByRole('button', { name: 'Lineage' }).click();
    await expect(page.getByTestId('lineage')).toContainText('contributors: c-');
    await page.screenshot({ path: info.outputPath('console-models.png'), fullPage: true });
    await production.getByRole('button', { name: 'Roll back' }).click();
    await expect(production.getByTestId('alias-version')).toHaveText(second.id);
    const moved = await (await fetch(`${co.url}/api/models/models-e2e/aliases/production/history`)).json();
    expect(moved.map((m: { actor: string; versionId: string }) => [m.actor, m.versionId])).toEqual([
      ['admin', second.id],
      ['admin', first.id],
      ['rollback', second.id],
    ]);

    await page.getByRole('link', { name: 'Telemetry' }).click();
    await expect(page.getByTestId('loop-lag')).toHaveText(/ms$/);
    for (const chart of ['chart-loop', 'chart-heap']) {
      await expect(page.getByTestId(chart).locator('canvas').first()).toBeVisible();
    }
    await expect(page.getByTestId('deployed-row').filter({ hasText: second.id })).toContainText('production');
    await page.waitForTimeout(2500); // a few seconds of the live series in the screenshot
    await page.screenshot({ path: info.outputPath('console-telemetry.png'), fullPage: true });

    await page.getByRole('link', { name: 'Overview' }).click();
    const alert = page
      .locator(`[data-testid="alert-row"][data-rule="no-progress"]`)
      .filter({ hasText: stalled.id });
    await expect(alert).toContainText('stalled job');
    await page.screenshot({ path: info.outputPath('console-overview-alert.png'), fullPage: true });
    await page.getByRole('link', { name: /Alerts/ }).click();
    await expect(alert).toHaveAttribute('data-active', 'true');
    await page.screenshot({ path: info.outputPath('console-alerts.png'), fullPage: true });
    const metrics = await (await fetch(`${co.url}/metrics`)).text();
    expect(metrics).toContain(`gridtab_alert_active{rule="no-progress",subject="${stalled.id}"} 1`);
    expect(metrics).toMatch(/gridtab_alert_firings_total\{rule="no-progress"\} [1-9]/);
    expect(metrics).toContain('gridtab_store_call_seconds_bucket');

    expect(await fitsWidth(page)).toBe(true);
    await page.setViewportSize({ width: 390, height: 844 });
    for (const name of ['models', 'telemetry', 'alerts', 'contributors'] as const) {
      await page.goto(`${co.url}/admin#/${name}`);
      await expect(page.getByTestId('role')).toHaveText('admin');
      expect(await fitsWidth(page)).toBe(true);
      await page.screenshot({ path: info.outputPath(`console-${name}-phone.png`), fullPage: true });
    }
  });

  test('a viewer sees jobs and contributors but no control that acts', async ({ page }, info) => {
    const job = await co.createJob({
      name: 'watched job',
      model: MODEL_PRESETS['fashion-mlp'],
      dataset: 'fashion-mnist',
    });
    await signIn(page, co.url, VIEWER_TOKEN);
    await expect(page.getByTestId('role')).toHaveText('viewer');
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await expect(page.getByTestId('job-row')).toHaveCount(1);
    await expect(page.getByTestId('job-form')).toHaveCount(0);
    await expect(page.getByRole('button', { name: /pause|resume|cancel|create/i })).toHaveCount(0);
    await page.screenshot({ path: info.outputPath('console-jobs-viewer.png'), fullPage: true });
    await page.getByRole('link', { name: 'watched job' }).click();
    await expect(page.getByTestId('job-title')).toHaveText('watched job');
    await expect(page.getByRole('button', { name: /pause|resume|cancel/i })).toHaveCount(0);
    expect((await co.job(job.id)).status).toBe('running');
    // The newer pages: reading yes, acting no.
    for (const name of ['Models', 'Contributors', 'Telemetry', 'Alerts']) {
      // The Alerts link carries a count once the no-progress alert of this job fires.
      await page.getByRole('link', { name: new RegExp(`^${name}`) }).click();
      await expect(page.getByRole('button', { name: /promote|roll back|kick|ban|unban/i })).toHaveCount(0);
    }
    await page.getByRole('link', { name: 'Models', exact: true }).click();
    await expect(page.getByTestId('model-row')).toHaveCount(1);
    await expect(page.getByLabel('Promote to alias')).toHaveCount(0);
    await page.screenshot({ path: info.outputPath('console-models-viewer.png'), fullPage: true });
  });

  test('an admin creates a viewer token in the console and revokes it', async ({ browser }, info) => {
    const context = await browser.newContext();
    const admin = await context.newPage();
    await signIn(admin, co.url, ADMIN_TOKEN);
    await admin.getByRole('link', { name: 'Tokens' }).click();
    const form = admin.getByTestId('token-form');
    await form.getByLabel('Label').fill('wall screen');
    await form.getByRole('button', { name: 'Create token' }).click();
    const secret = (await admin.getByTestId('new-token').textContent())!;
    expect(secret).toMatch(/^gt_/);
    await admin.screenshot({ path: info.outputPath('console-tokens.png'), fullPage: true });

    // sessionStorage is per tab, so a second tab signs in with the new token on its own.
    const wall = await context.newPage();
    await signIn(wall, co.url, secret);
    await expect(wall.getByTestId('role')).toHaveText('viewer');
    await expect(wall.getByRole('link', { name: 'Tokens' })).toHaveCount(0);

    await admin
      .getByTestId('token-row')
      .filter({ hasText: 'wall screen' })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await expect(admin.getByTestId('token-row').filter({ hasText: 'wall screen' })).toContainText('revoked');
    const refused = await fetch(`${co.url}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    await context.close();
  });

  test('a wrong token is refused with a message', async ({ page }) => {
    await signIn(page, co.url, 'not-a-token');
    await expect(page.getByRole('alert')).toContainText('refused');
    await expect(page.getByTestId('role')).toHaveCount(0);
  });
});
