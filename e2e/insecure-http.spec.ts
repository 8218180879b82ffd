/**
 * A tab on plain http from another machine (not a secure context: no WebGPU, no crypto.subtle)
 * still trains: it hashes shards and weights with @noble/hashes and picks WebGL or wasm, while
 * the page says WebGPU needs HTTPS. The coordinator runs with DATA_KEY, so the shards the tab
 * verifies were sealed at rest and decrypted on the way out.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { MODEL_PRESETS } from '@gridtab/shared';
import { expect } from '@playwright/test';
import { type CoordinatorProcess, startCoordinator } from './coordinator.ts';
import { test } from './diagnose.ts';

const address = execFileSync('hostname', ['-I'])
  .toString()
  .trim()
  .split(/\s+/)
  .find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.'));

interface PageState {
  unitsDone: number;
  chosenBackend: string | null;
}

test.describe('plain http off localhost', () => {
  let co: CoordinatorProcess | null = null;
  test.afterAll(async () => co?.stop());

  test('a tab on http://<address>:<port>/ warns about WebGPU and trains on another backend', async ({
    browser,
  }) => {
    test.setTimeout(5 * 60_000);
    expect(address, 'hostname -I gives a non-loopback IPv4 address').toBeTruthy();
    co = await startCoordinator({ HOST: '0.0.0.0', DATA_KEY: randomBytes(32).toString('base64') });
    const port = new URL(co.url).port;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://${address}:${port}/?autostart=1`);
    expect(
      await page.evaluate(() => [window.isSecureContext, typeof crypto.subtle, 'gpu' in navigator]),
    ).toEqual([false, 'undefined', false]);
    const notice = page.getByTestId('insecure-context');
    await expect(notice).toContainText('WebGPU');
    await expect(notice).toContainText('https://');
    await expect(page.getByTestId('phase')).toHaveText('waiting', { timeout: 120_000 });
    await co.createJob({
      name: 'plain http unit',
      model: MODEL_PRESETS['fashion-mlp'],
      dataset: 'fashion-mnist',
      hyperparameters: { batchSize: 32, localSteps: 5, learningRate: 0.001, optimizer: 'adam' },
      rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 120_000, leaseMs: 60_000 },
      stopping: { maxRounds: 1 },
    });
    const state = () =>
      page.evaluate(
        () => (window as unknown as { __gridtab?: { state: PageState } }).__gridtab?.state ?? null,
      );
    // unitsDone counts updates the coordinator accepted: shards fetched, hashed and verified here.
    await expect
      .poll(async () => (await state())?.unitsDone ?? 0, { timeout: 180_000, intervals: [1000] })
      .toBeGreaterThan(0);
    const chosen = (await state())?.chosenBackend;
    expect(chosen).toBeTruthy();
    expect(chosen).not.toBe('webgpu');
    await context.close();
  });
});
