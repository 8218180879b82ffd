/**
 * The worker CLI as a user runs it: a child process against a real coordinator. It trains,
 * shows its progress line, and on SIGINT gives its unit back and exits 0.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addJob, startTestCoordinator, type TestCoordinator } from '../../../coordinator/src/testing.ts';

const BIN = resolve(import.meta.dirname, '../../bin/gridtab-worker.mjs');

describe('gridtab-worker', () => {
  let co: TestCoordinator | null = null;
  afterEach(async () => co?.destroy());

  it('refuses a missing or malformed --coordinator with exit code 2', async () => {
    for (const args of [[], ['--coordinator', 'not a url'], ['--bogus']]) {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      const code = await new Promise((r) => child.on('exit', r));
      expect(code, args.join(' ')).toBe(2);
      expect(err).toMatch(/Usage: npx gridtab-worker/);
    }
  });

  it('contributes units and gives its lease back on Ctrl-C', async () => {
    co = await startTestCoordinator({ disconnectGraceMs: 600_000 });
    // Long units, so the SIGINT lands in the middle of one.
    const job = await addJob(co, {
      hyperparameters: { batchSize: 32, localSteps: 400, learningRate: 0.002, optimizer: 'adam' },
    });
    const child = spawn(process.execPath, [BIN, '--coordinator', co.url, '--no-gpu'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const leased = () =>
      co!.scheduler.roundOf(job.id)?.units.filter((u) => u.status === 'leased').length ?? 0;
    await expect
      .poll(async () => (await co!.store.listUpdates(job.id, 1)).length, { timeout: 90_000, interval: 100 })
      .toBeGreaterThan(0);
    await expect.poll(leased, { timeout: 30_000, interval: 20 }).toBe(1);
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(out).toMatch(/\[[#.]{20}\] \w+ +\w+ {2}units \d+ +\d+ samples\/s/);
    expect(out).toMatch(/SIGINT: giving the unit back/);
    // The grace period is long, so only the worker's own release can have freed the unit.
    expect(leased()).toBe(0);
  });
});
