/**
 * The figure users ask of the CNN: how long three tabs of one Chromium take to bring the
 * ~55k-parameter fashion-cnn to 88% test accuracy on Fashion-MNIST. A real coordinator (its
 * embedded store, the real dataset) and real tabs on the contribute page; the job stops at 88%
 * (its target) or at the time limit, whichever comes first. Records the time, the accuracy
 * curve by round and each tab's chosen backend. Run by `npm run bench:cnn -- --tabs`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JobSpecInput, jobSpecSchema, MODEL_PRESETS } from '@gridtab/shared';
import { chromium } from '@playwright/test';
import { FASHION_MNIST_ID } from '../coordinator/src/bootstrap.ts';
import { configFromEnv } from '../coordinator/src/config.ts';
import { createCoordinator } from '../coordinator/src/index.ts';
import { createJob } from '../coordinator/src/scheduler/jobs.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.ts';

export const TARGET_ACCURACY = 0.88;
export const GOAL_SECONDS = 330;

/**
 * Batch 32 with 40 local steps: 1,280 samples a unit, a few seconds of wasm per tab, so the
 * round's fixed costs (weights down and up, the coordinator's evaluation of 10k test rows) stay
 * a small share; few enough local steps that three tabs' FedAvg does not drift. Adam at 2e-3 is
 * what the tabs' Adam (fresh per unit) tolerates on this CNN without spikes.
 */
export function cnnJob(limitMs: number): JobSpecInput {
  return {
    name: 'bench fashion-cnn to 88%',
    model: MODEL_PRESETS['fashion-cnn'],
    dataset: FASHION_MNIST_ID,
    strategy: 'fedavg',
    hyperparameters: { batchSize: 32, localSteps: 40, learningRate: 0.002, optimizer: 'adam' },
    rounds: { unitsPerRound: 3, quorum: 1, deadlineMs: Math.min(limitMs, 240_000), leaseMs: 120_000 },
    stopping: { maxRounds: 1000, targetAccuracy: TARGET_ACCURACY },
  };
}

export interface CnnTabsResult {
  tabs: number;
  limitSeconds: number;
  /** Seconds from the tabs opening to the first version at or above 88%; null if not reached. */
  secondsTo88: number | null;
  samplesTo88: number | null;
  goalSeconds: number;
  curve: { round: number; seconds: number; samples: number; accuracy: number | null }[];
  chosenBackends: (string | null)[];
  wasm: { multithreadSupport: boolean; threads: number | null }[];
  /** 1-minute load average at start and end: the machine is shared, say how loaded it was. */
  load: { start: number; end: number };
}

type Hook = {
  state: { chosenBackend: string | null };
  wasm(): { multithreadSupport: boolean; threads: number | null };
};

export async function timeTo88(tabs = 3, limitMs = 15 * 60_000): Promise<CnnTabsResult> {
  const loadStart = loadavg()[0];
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-bench-cnn-'));
  const co = await createCoordinator(
    configFromEnv({ PORT: '0', DATA_DIR: dir, GRIDTAB_DEMO_JOB: '0', ADMIN_TOKEN: 'bench' }),
    { log: () => {} },
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext();
    const pages = await Promise.all(
      Array.from({ length: tabs }, async () => {
        const p = await context.newPage();
        await p.goto(`${co.url}/?autostart=1`);
        return p;
      }),
    );
    // The clock starts with the job, after the tabs measured their backends on start-up.
    for (const p of pages)
      await p.waitForFunction(
        () => (window as unknown as { __gridtab?: Hook }).__gridtab?.state.chosenBackend,
        null,
        {
          timeout: 180_000,
        },
      );
    const job = await createJob(co, jobSpecSchema.parse(cnnJob(limitMs)));
    const started = Date.now();
    await co.scheduler.openRound(job);
    while ((await co.store.getJob(job.id))!.status === 'running' && Date.now() - started < limitMs) {
      await new Promise((r) => setTimeout(r, 1000));
      const v = (await co.store.listVersions(job.id)).at(-1);
      process.stdout.write(
        `\r${Math.round((Date.now() - started) / 1000)} s: round ${v?.round ?? 0}, accuracy ${v?.metrics.testAccuracy?.toFixed(4) ?? '-'}   `,
      );
    }
    process.stdout.write('\n');
    const hooks = await Promise.all(
      pages.map((p) =>
        p.evaluate(() => {
          const h = (window as unknown as { __gridtab: Hook }).__gridtab;
          return { backend: h.state.chosenBackend, wasm: h.wasm() };
        }),
      ),
    );
    const versions = await co.store.listVersions(job.id);
    let samples = 0;
    const curve = versions.slice(1).map((v) => {
      samples += v.numSamples;
      return {
        round: v.round,
        seconds: (Date.parse(v.createdAt) - started) / 1000,
        samples,
        accuracy: v.metrics.testAccuracy,
      };
    });
    const hit = curve.find((p) => (p.accuracy ?? 0) >= TARGET_ACCURACY) ?? null;
    return {
      tabs,
      limitSeconds: limitMs / 1000,
      secondsTo88: hit?.seconds ?? null,
      samplesTo88: hit?.samples ?? null,
      goalSeconds: GOAL_SECONDS,
      curve,
      chosenBackends: hooks.map((h) => h.backend),
      wasm: hooks.map((h) => h.wasm),
      load: { start: loadStart, end: loadavg()[0] },
    };
  } finally {
    await browser.close();
    await co.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
