/**
 * The worker CLI as a user runs it: a child process against a real coordinator. It trains,
 * shows its progress line, and on SIGINT gives its unit back and exits 0.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { addJob, startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import { MODEL_PRESETS } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../../../client/bin/gridtab-worker.mjs');

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

  it('trains a CNN on wasm, stays online while training, and leaves promptly on SIGTERM', async () => {
    co = await startTestCoordinator({ disconnectGraceMs: 600_000 });
    const job = await addJob(co, {
      model: MODEL_PRESETS['fashion-cnn-small'],
      hyperparameters: { batchSize: 32, localSteps: 300, learningRate: 0.002, optimizer: 'adam' },
    });
    const child = spawn(process.execPath, [BIN, '--coordinator', co.url, '--no-gpu'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const leased = () =>
      co!.scheduler.roundOf(job.id)?.units.filter((u) => u.status === 'leased').length ?? 0;
    // The first CNN unit trains on wasm (GridTab's conv gradients): it could not before.
    await expect.poll(leased, { timeout: 60_000, interval: 50 }).toBe(1);
    await expect.poll(() => out, { timeout: 60_000, interval: 100 }).toMatch(/training +wasm/);
    // Connected the whole time it trains: the event loop is free between steps.
    expect(co.onlineContributors().size).toBe(1);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/SIGTERM: giving the unit back/);
    expect(leased()).toBe(0);
  }, 150_000);

  it('leaves on SIGTERM when the coordinator cannot be reached', async () => {
    co = await startTestCoordinator({ disconnectGraceMs: 600_000 });
    await addJob(co, {
      hyperparameters: { batchSize: 32, localSteps: 2000, learningRate: 0.002, optimizer: 'adam' },
    });
    const child = spawn(process.execPath, [BIN, '--coordinator', co.url, '--no-gpu'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    await expect.poll(() => out, { timeout: 90_000, interval: 100 }).toMatch(/training +wasm/);
    await co.destroy();
    co = null;
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toMatch(/SIGTERM: giving the unit back/);
  }, 150_000);
});
