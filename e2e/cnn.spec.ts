/**
 * A CNN across three Chromium tabs: the contribute page is cross-origin isolated (so TF.js's
 * wasm backend may use threads), every tab trains the convolutional model on a backend it
 * measured on that model, and the job's accuracy climbs over rounds.
 */
import { MODEL_PRESETS } from '@gridtab/shared';
import { expect, type Page, test } from '@playwright/test';
import { type CoordinatorProcess, startCoordinator } from './coordinator.ts';

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
    }
    // The console is not isolated: it must keep working beside pages that are not.
    const admin = await context.newPage();
    await admin.goto(`${co.url}/admin`);
    expect(await admin.evaluate(() => crossOriginIsolated)).toBe(false);
    await admin.close();

    const job = await co.createJob(CNN_JOB);
    await expect
      .poll(async () => (await co.job(job.id)).status, { timeout: 600_000, intervals: [2000] })
      .toBe('completed');
    const versions = await co.versions(job.id);
    const accuracies = versions.map((v) => v.metrics.testAccuracy).filter((a): a is number => a !== null);
    expect(accuracies.length).toBeGreaterThanOrEqual(2);
    expect(accuracies.at(-1)!).toBeGreaterThan(accuracies[0]);
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
