/**
 * A CNN across three Chromium tabs: the contribute page is cross-origin isolated (so TF.js's
 * wasm backend may use threads), every tab trains the convolutional model on a backend it
 * measured on that model, and the job's accuracy climbs over rounds.
 */
import { MODEL_PRESETS } from '@gridtab/shared';
import { expect, type Page } from '@playwright/test';
import { ADMIN_TOKEN, type CoordinatorProcess, startCoordinator } from './coordinator.ts';
import { test } from './diagnose.ts';

interface TabState {
  unitsDone: number;
  chosenBackend: string | null;
  backends: { name: string; available: boolean; samplesPerSec: number; error?: string }[];
}

const CNN_JOB = {
  name: 'e2e CNN',
  model: MODEL_PRESETS['fashion-cnn'],
  dataset: 'fashion-mnist',
  hyperparameters: { batchSize: 32, localSteps: 10, learningRate: 0.002, optimizer: 'adam' as const },
  rounds: { unitsPerRound: 3, quorum: 1, deadlineMs: 240_000, leaseMs: 120_000 },
  stopping: { maxRounds: 3 },
};

// training.spec.ts declares window.__gridtab narrower; read it untyped here.
const stateOf = (p: Page) =>
  p.evaluate(() => (window as unknown as { __gridtab?: { state: TabState } }).__gridtab?.state ?? null);

test.describe('CNN across tabs', () => {
  let co: CoordinatorProcess;
  test.afterEach(async () => co?.stop());

  test('three isolated tabs train the CNN, each on a backend measured on it, and accuracy climbs', async ({
    browser,
  }) => {
    test.setTimeout(12 * 60_000); // a hang guard on a 2-core machine, not a speed goal
    co = await startCoordinator();
    const context = await browser.newContext();
    const tabs = await Promise.all(
      [0, 1, 2].map(async () => {
        const page = await context.newPage();
        await page.goto(`${co.url}/?autostart=1`);
        return page;
      }),
    );
    for (const tab of tabs) {
      expect(await tab.evaluate(() => crossOriginIsolated)).toBe(true);
      await expect(tab.getByTestId('phase')).toHaveText('waiting', { timeout: 120_000 });
      // The minified page still starts TF.js's threaded wasm: its pthread workers run (they
      // load their factory from a blob, which both the minifier and the CSP can break, and then
      // the backend never starts).
      const wasm = await tab.evaluate(() =>
        (
          window as unknown as {
            __gridtab: { wasm(): { multithreadSupport: boolean; threads: number | null } };
          }
        ).__gridtab.wasm(),
      );
      expect(wasm.multithreadSupport).toBe(true);
      expect(wasm.threads).toBeGreaterThanOrEqual(1);
    }
    // The console is not isolated: it must keep working beside pages that are not.
    const admin = await context.newPage();
    await admin.goto(`${co.url}/admin`);
    expect(await admin.evaluate(() => crossOriginIsolated)).toBe(false);
    await admin.close();

    const started = Date.now();
    const job = await co.createJob(CNN_JOB);
    // No retry in this poll: each round close evaluates the CNN on the 10k test rows in the
    // coordinator, and the coordinator must keep answering meanwhile (it once held its event
    // loop for seconds there, and this poll met ECONNRESET).
    try {
      await expect
        .poll(
          async () => {
            expect((await (await fetch(`${co.url}/api/health`)).json()).ok).toBe(true);
            return (await co.job(job.id)).status;
          },
          { timeout: 600_000, intervals: [2000] },
        )
        .toBe('completed');
    } catch (e) {
      console.log(`coordinator log (last 40 lines):\n${co.log.slice(-40).join('\n')}`);
      throw e;
    }
    const versions = await co.versions(job.id);
    const accuracies = versions.map((v) => v.metrics.testAccuracy).filter((a): a is number => a !== null);
    console.log(`CNN job: ${(Date.now() - started) / 1000} s, accuracy by round ${accuracies.join(', ')}`);
    expect(accuracies.length).toBeGreaterThanOrEqual(2);
    expect(accuracies.at(-1)!).toBeGreaterThan(accuracies[0]);
    // The coordinator recorded each tab's backend too (what the console shows).
    const contributors = (await (
      await fetch(`${co.url}/api/contributors`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { backend: string | null; unitsDone: number }[];
    const states = await Promise.all(tabs.map(async (tab) => (await stateOf(tab))!));
    console.log(`backends: ${states.map((s) => s.chosenBackend).join(', ')}`);
    expect(
      contributors
        .filter((c) => c.unitsDone > 0)
        .map((c) => c.backend)
        .sort(),
    ).toEqual(states.map((s) => s.chosenBackend).sort());
    for (const tab of tabs) {
      const state = (await stateOf(tab))!;
      expect(state.unitsDone).toBeGreaterThan(0);
      // Scores on the job's model replace the start-up MLP ones after the first unit.
      expect(state.backends.some((b) => b.available && b.name === state.chosenBackend)).toBe(true);
      await expect(tab.getByTestId(`backend-${state.chosenBackend}`)).toHaveAttribute('data-chosen', 'true');
    }
    await context.close();
  });
});
