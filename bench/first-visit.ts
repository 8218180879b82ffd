/**
 * The start-up figure of issue 15: how long a contribute tab takes from opening the page to
 * training its first unit, on a first visit (fresh browser profile: empty IndexedDB, so the
 * backends are measured and the shards fetched) and after a reload (scores and shards kept). The
 * issue's goal: a first visit trains within 5 s.
 *
 * A real coordinator (embedded store, real dataset) runs one job: the demo MLP job by default,
 * the fashion-cnn job of bench/cnn-tabs.ts with `--cnn`. For each of `--runs=N` (default 3) a
 * fresh Chromium context opens `/?autostart=1`; an init script polls the page's test hook every
 * 10 ms and stamps the first time (performance.now(), from navigation start) each phase is seen.
 * Then the same tab is reloaded and timed again. One tab at a time.
 *
 *   npm run bench:first-visit [-- --cnn] [-- --runs=3]
 *
 * Writes bench/results/first-visit[-cnn].json; the BENCHMARKS row is written by hand with the
 * machine's load average, which the JSON records.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { jobSpecSchema } from '@gridtab/shared';
import { chromium, type Page } from '@playwright/test';
import { configFromEnv } from '../coordinator/src/config.ts';
import { createCoordinator } from '../coordinator/src/index.ts';
import { createJob } from '../coordinator/src/scheduler/jobs.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.ts';
import { cnnJob } from './cnn-tabs.ts';

const cnn = process.argv.includes('--cnn');
const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 3);
const GOAL_MS = 5000;

type Phases = Record<string, number>;

/** Runs in the page before its scripts: the first time each phase shows, ms from navigation. */
const STAMP_PHASES = () => {
  const w = window as unknown as {
    __phases: Record<string, number>;
    __gridtab?: { state: { phase: string } };
  };
  w.__phases = {};
  const timer = setInterval(() => {
    const phase = w.__gridtab?.state.phase;
    if (phase && !(phase in w.__phases)) w.__phases[phase] = Math.round(performance.now());
    if (phase === 'training' || phase === 'error') clearInterval(timer);
  }, 10);
};

async function timeToTraining(page: Page, navigate: () => Promise<unknown>): Promise<Phases> {
  await navigate();
  await page.waitForFunction(
    () => {
      const p = (window as unknown as { __phases?: Record<string, number> }).__phases;
      return p && ('training' in p || 'error' in p);
    },
    null,
    { timeout: 180_000, polling: 50 },
  );
  return page.evaluate(() => (window as unknown as { __phases: Record<string, number> }).__phases);
}

async function main(): Promise<void> {
  const loadStart = loadavg().map((l) => +l.toFixed(2));
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-bench-first-visit-'));
  const co = await createCoordinator(
    configFromEnv({ PORT: '0', DATA_DIR: dir, GRIDTAB_DEMO_JOB: cnn ? '0' : '1', ADMIN_TOKEN: 'bench' }),
    { log: () => {} },
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const results: { first: Phases; reload: Phases }[] = [];
  try {
    if (cnn) {
      const job = await createJob(co, jobSpecSchema.parse(cnnJob(30 * 60_000)));
      await co.scheduler.openRound(job);
    }
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.addInitScript(STAMP_PHASES);
      const first = await timeToTraining(page, () => page.goto(`${co.url}/?autostart=1`));
      const reload = await timeToTraining(page, () => page.reload());
      results.push({ first, reload });
      console.log(
        `run ${i + 1}: first visit ${first.training ?? `error at ${first.error}`} ms ${JSON.stringify(first)}; ` +
          `reload ${reload.training ?? `error at ${reload.error}`} ms ${JSON.stringify(reload)}`,
      );
      await context.close();
    }
  } finally {
    await browser.close();
    await co.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const firstMs = median(results.map((r) => r.first.training ?? Number.POSITIVE_INFINITY));
  const reloadMs = median(results.map((r) => r.reload.training ?? Number.POSITIVE_INFINITY));
  const summary = {
    date: new Date().toISOString(),
    job: cnn ? 'fashion-cnn (bench/cnn-tabs.ts cnnJob)' : 'demo job',
    runs,
    goalMs: GOAL_MS,
    medianFirstVisitMs: firstMs,
    medianReloadMs: reloadMs,
    results,
    load: { start: loadStart, end: loadavg().map((l) => +l.toFixed(2)) },
  };
  console.log(
    `median to first unit training: first visit ${firstMs} ms (goal ${GOAL_MS}), reload ${reloadMs} ms; load ${summary.load.start.join(' ')} -> ${summary.load.end.join(' ')}`,
  );
  const out = resolve(import.meta.dirname, `results/first-visit${cnn ? '-cnn' : ''}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

await main();
