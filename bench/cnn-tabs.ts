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
import { CHROMIUM_ARGS, CHROMIUM_PATH, openInWindows } from '../e2e/chromium.ts';

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

/** A coordinator on its embedded store and `tabs` contribute tabs of one Chromium, each past its backend choice. */
async function openTabs(tabs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-bench-cnn-'));
  const co = await createCoordinator(
    configFromEnv({ PORT: '0', DATA_DIR: dir, GRIDTAB_DEMO_JOB: '0', ADMIN_TOKEN: 'bench' }),
    { log: () => {} },
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const close = async () => {
    await browser.close();
    await co.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const context = await browser.newContext();
    // A window each, as contributors' tabs are (e2e/chromium.ts, openInWindows).
    const pages = await openInWindows(context, `${co.url}/?autostart=1`, tabs);
    // The clock starts with the job, after the tabs measured their backends on start-up.
    for (const p of pages)
      await p.waitForFunction(
        () => (window as unknown as { __gridtab?: Hook }).__gridtab?.state.chosenBackend,
        null,
        { timeout: 180_000 },
      );
    const backends = () =>
      Promise.all(
        pages.map((p) =>
          p.evaluate(() => {
            const h = (window as unknown as { __gridtab: Hook }).__gridtab;
            return { backend: h.state.chosenBackend, wasm: h.wasm() };
          }),
        ),
      );
    return { co, pages, backends, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export async function timeTo88(tabs = 3, limitMs = 15 * 60_000): Promise<CnnTabsResult> {
  const loadStart = loadavg()[0];
  const { co, backends, close } = await openTabs(tabs);
  try {
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
    const hooks = await backends();
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
    await close();
  }
}

export interface TabScalingRow {
  tabs: number;
  /** From the first version (the warm-up round: shader and model compiles) to the last one measured. */
  seconds: number;
  rounds: number;
  samples: number;
  samplesPerSec: number;
  chosenBackends: (string | null)[];
  load: { start: number; end: number };
}

/**
 * Issue 15's "N tabs on one machine give at least the throughput of one": the same CNN job on
 * 1, 2, 3... tabs of one Chromium (one unit per tab a round), the accepted samples per second of
 * wall time after the first round, which carries the compiles. Each count gets a fresh
 * coordinator and browser, so no count starts from another's caches.
 */
const MIN_ROUNDS = 3;

export async function tabScaling(counts: number[], measureMs: number): Promise<TabScalingRow[]> {
  const rows: TabScalingRow[] = [];
  for (const tabs of counts) {
    const loadStart = loadavg()[0];
    const { co, backends, close } = await openTabs(tabs);
    try {
      const spec = cnnJob(measureMs * 4);
      const job = await createJob(
        co,
        jobSpecSchema.parse({
          ...spec,
          name: `bench fashion-cnn on ${tabs} tab(s)`,
          rounds: { ...spec.rounds, unitsPerRound: tabs },
          stopping: { maxRounds: 100_000 },
        }),
      );
      await co.scheduler.openRound(job);
      const versions = async () => (await co.store.listVersions(job.id)).slice(1);
      const deadline = Date.now() + measureMs * 4;
      while ((await versions()).length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 500));
      const first = (await versions())[0];
      if (!first) throw new Error(`${tabs} tab(s): no round finished in ${(measureMs * 4) / 1000} s`);
      const from = Date.parse(first.createdAt);
      // At least the measuring time and at least MIN_ROUNDS rounds after the first: on a loaded
      // machine one round of one tab can outlast the measuring time (capped at 10x it).
      const later = async () => (await versions()).filter((v) => Date.parse(v.createdAt) > from);
      while (
        Date.now() - from < measureMs * 10 &&
        (Date.now() - from < measureMs || (await later()).length < MIN_ROUNDS)
      )
        await new Promise((r) => setTimeout(r, 500));
      const after = await later();
      const last = after.at(-1);
      const seconds = last ? (Date.parse(last.createdAt) - from) / 1000 : 0;
      const samples = after.reduce((sum, v) => sum + v.numSamples, 0);
      rows.push({
        tabs,
        seconds,
        rounds: after.length,
        samples,
        samplesPerSec: seconds > 0 ? samples / seconds : 0,
        chosenBackends: (await backends()).map((h) => h.backend),
        load: { start: loadStart, end: loadavg()[0] },
      });
      console.log(
        `${tabs} tab(s): ${samples} samples in ${seconds.toFixed(1)} s (${rows.at(-1)!.samplesPerSec.toFixed(0)}/s) on ${rows.at(-1)!.chosenBackends.join(', ')}`,
      );
    } finally {
      await close();
    }
  }
  return rows;
}
