/**
 * HTTPS end to end: a self-signed certificate made at test time for this machine's own
 * non-loopback address, the coordinator serving HTTPS and WSS on one port with it, and a real
 * Chromium tab opening the contribute page at https://<address>:<port>/ (a secure context
 * although it is not localhost) and training a unit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_PRESETS } from '@gridtab/shared';
import { expect } from '@playwright/test';
import { type CoordinatorProcess, startCoordinator } from './coordinator.ts';
import { test } from './diagnose.ts';

const address = execFileSync('hostname', ['-I'])
  .toString()
  .trim()
  .split(/\s+/)
  .find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && !a.startsWith('127.'));

test.describe('https', () => {
  let co: CoordinatorProcess | null = null;
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-tls-'));
  test.afterAll(async () => {
    await co?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a tab on https://<address>:<port>/ is a secure context and trains a unit', async ({ browser }) => {
    test.setTimeout(5 * 60_000);
    expect(address, 'hostname -I gives a non-loopback IPv4 address').toBeTruthy();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        `/CN=${address}`,
        '-addext',
        `subjectAltName=IP:${address},DNS:localhost`,
      ],
      { stdio: 'ignore' },
    );
    // The test's own API calls (Node fetch) meet the same self-signed certificate.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    co = await startCoordinator({ TLS_CERT: cert, TLS_KEY: key, HOST: '0.0.0.0' });
    expect(co.url).toMatch(/^https:\/\//);
    const port = new URL(co.url).port;
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const response = await page.goto(`https://${address}:${port}/?autostart=1`);
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(await page.evaluate(() => [window.isSecureContext, typeof crypto.subtle?.digest])).toEqual([
      true,
      'function',
    ]);
    await expect(page.getByTestId('insecure-context')).toHaveCount(0);
    await expect(page.getByTestId('phase')).toHaveText('waiting', { timeout: 120_000 });
    const job = await co.createJob({
      name: 'https unit',
      model: MODEL_PRESETS['fashion-mlp'],
      dataset: 'fashion-mnist',
      hyperparameters: { batchSize: 32, localSteps: 5, learningRate: 0.001, optimizer: 'adam' },
      rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 120_000, leaseMs: 60_000 },
      stopping: { maxRounds: 1 },
    });
    await expect
      .poll(
        () =>
          page.evaluate(
            () =>
              (window as unknown as { __gridtab?: { state: { unitsDone: number } } }).__gridtab?.state
                .unitsDone ?? 0,
          ),
        {
          timeout: 180_000,
          intervals: [1000],
        },
      )
      .toBeGreaterThan(0);
    // unitsDone counts updates the coordinator acknowledged as accepted, over WSS.
    expect(job.id).toMatch(/^j-/);
    await context.close();
  });
});
