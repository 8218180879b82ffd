/**
 * The inference SDK end to end: the example app (examples/fashion-classifier) in real Chromium
 * against a real coordinator whose versions were trained by a Node contributor. The page
 * classifies with the production version, swaps when the alias moves, reloads from IndexedDB
 * when the weight route is down, and refuses tampered weights while serving the version it had.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MODEL_PRESETS } from '@gridtab/shared';
import { type BrowserContext, expect, type Page } from '@playwright/test';
import { ADMIN_TOKEN, type CoordinatorProcess, startCoordinator } from './coordinator.ts';
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

test.describe.configure({ mode: 'serial' });

test.describe('inference SDK in the example app', () => {
  let co: CoordinatorProcess;
  let versions: { id: string; hash: string }[];
  let context: BrowserContext;
  let page: Page;

  const promote = async (versionId: string) => {
    const res = await fetch(`${co.url}/api/models/fashion/aliases/production`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ versionId }),
    });
    expect(res.status).toBe(200);
  };
  const shownVersion = (p: Page) => p.getByTestId('version');
  const resultVersion = (p: Page) => p.evaluate(() => window.__classifier?.result?.versionId ?? null);

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(180_000);
    if (!existsSync(resolve(root, `client/dist${PAGE}index.html`)))
      execFileSync(
        'npx',
        ['vite', 'build', '-c', 'examples/fashion-classifier/vite.config.ts', '--logLevel', 'warn'],
        {
          cwd: root,
          stdio: 'inherit',
        },
      );
    co = await startCoordinator();
    const job = await co.createJob({
      name: 'fashion',
      model: MODEL_PRESETS['fashion-mlp'],
      dataset: 'fashion-mnist',
      hyperparameters: { batchSize: 64, localSteps: 60, learningRate: 0.002, optimizer: 'adam' },
      rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 },
      stopping: { maxRounds: 2 },
    });
    execFileSync(process.execPath, ['--import', 'tsx', 'e2e/train-node.ts', co.url, job.id], {
      cwd: root,
      stdio: 'inherit',
      timeout: 120_000,
    });
    versions = await (await fetch(`${co.url}/api/models/fashion/versions`)).json();
    expect(versions).toHaveLength(3); // round 0 (initial weights), 1 and 2
    await promote(versions[1].id);
    context = await browser.newContext();
    page = await context.newPage();
  });

  test.afterAll(async () => {
    await context?.close();
    await co?.stop();
  });

  test('classifies a Fashion-MNIST test image with the production version', async () => {
    await page.goto(`${co.url}${PAGE}`);
    await expect(shownVersion(page)).toHaveText(versions[1].id, { timeout: 60_000 });
    await page.getByTestId('sample').click();
    await expect(page.getByTestId('truth')).toHaveText('Ankle boot');
    await expect(page.getByTestId('confidence')).toHaveText(/^\d+\.\d%$/);
    expect(LABELS).toContain(await page.getByTestId('label').textContent());
    expect(await resultVersion(page)).toBe(versions[1].id);
  });

  test('swaps to the new version when the alias moves, without a reload', async () => {
    await page.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    await promote(versions[2].id);
    await expect(shownVersion(page)).toHaveText(versions[2].id);
    await expect.poll(() => resultVersion(page)).toBe(versions[2].id);
    expect(
      await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
    ).toBe(true);
  });

  test('a reload with the weight route blocked still predicts from IndexedDB', async () => {
    const weightRequests: string[] = [];
    await page.route('**/models/weights/**', (route) => {
      weightRequests.push(route.request().url());
      return route.abort();
    });
    await page.reload();
    await expect(shownVersion(page)).toHaveText(versions[2].id);
    await page.getByTestId('sample').click();
    await expect.poll(() => resultVersion(page)).toBe(versions[2].id);
    await expect(page.getByTestId('label')).not.toHaveText('–');
    expect(weightRequests).toEqual([]);
    await expect(page.getByTestId('error')).toHaveText('');
    await page.unroute('**/models/weights/**');
  });

  test('tampered weights are refused: a promotion keeps the version it had, a fresh load fails typed', async () => {
    const tamper = async (target: Page) =>
      target.route('**/models/weights/**', async (route) => {
        const res = await route.fetch();
        const body = Buffer.from(await res.body());
        body[100] ^= 0xff;
        await route.fulfill({ response: res, body });
      });
    await tamper(page);
    await promote(versions[0].id); // never downloaded by this page
    await expect(page.getByTestId('error')).toContainText('WEIGHTS_MISMATCH');
    await expect(shownVersion(page)).toHaveText(versions[2].id);
    await page.getByTestId('sample').click();
    await expect.poll(() => resultVersion(page)).toBe(versions[2].id);

    const fresh = await context.browser()!.newContext();
    const other = await fresh.newPage();
    await tamper(other);
    await other.goto(`${co.url}${PAGE}`);
    await expect(other.getByTestId('error')).toContainText('WEIGHTS_MISMATCH');
    await expect(shownVersion(other)).toHaveText('loading…');
    await fresh.close();
  });

  test('the same SDK runs in a Web Worker: classifies and swaps there', async () => {
    const workerContext = await context.browser()!.newContext();
    const inWorker = await workerContext.newPage();
    await inWorker.goto(`${co.url}${PAGE}?worker=1`);
    await expect(shownVersion(inWorker)).toHaveText(versions[0].id, { timeout: 60_000 });
    await expect(inWorker.getByTestId('backend')).toContainText('(in a worker)');
    await inWorker.getByTestId('sample').click();
    await expect.poll(() => resultVersion(inWorker)).toBe(versions[0].id);
    expect(LABELS).toContain(await inWorker.getByTestId('label').textContent());
    await promote(versions[2].id);
    await expect(shownVersion(inWorker)).toHaveText(versions[2].id);
    await expect.poll(() => resultVersion(inWorker)).toBe(versions[2].id);
    await workerContext.close();
  });
});
