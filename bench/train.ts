/**
 * `npm run bench:train`: trains the demo job with 1 and with 3 headless Chromium tabs for a
 * fixed number of rounds, then trains the same model in one Node process with TF.js on the same
 * number of samples (the baseline). Writes bench/results/train.json and rows in
 * docs/BENCHMARKS.md. Options: --rounds N (default 40), --tabs 1,3, --units 3,6 (units per
 * round, default the demo job's 3: each count is its own run, with the rounds scaled so every run
 * trains the same number of units of the same size, N x 3 / units rounds), --strategy fedavg
 * (the demo job's synchronous rounds) or buffered (FedBuff: a version every `units` updates, so
 * no tab waits for a round's slowest unit; the same units and samples), --windows off (the tabs
 * as tabs of one window instead of a window each; see openInWindows), --sizing speed (each unit's
 * local steps follow its tab's measured speed, `rounds.unitSizing`; default the demo job's, fixed)
 * or time (each unit trains for the same time, its steps as many as fit),
 * --slow-tab N (the first tab's CPU throttled N times with DevTools' CPU throttling: a contributor
 * on a slower machine), --cpu-profile FILE (the first tab's CPU profile over the run, for DevTools).
 * Each run also records
 * how busy the tabs were, the turnaround between rounds (train-timing.ts), and where each tab's
 * time went as the tab measured it (tabPhases).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeShard, imageDataSpec, imageShard, type JobSpecInput, jobSpecSchema } from '@gridtab/shared';
import { buildModel, crossEntropyPerSample, evaluate, shardToTensors } from '@gridtab/shared/tf';
import { chromium } from '@playwright/test';
import { DEMO_JOB } from '../coordinator/src/bootstrap.ts';
import { configFromEnv } from '../coordinator/src/config.ts';
import { DEFAULT_FASHION_MNIST_DIR, loadFashionMnist } from '../coordinator/src/datasets/fashion-mnist.ts';
import { initTf, tf } from '../coordinator/src/evaluation/tf-node.ts';
import { createCoordinator } from '../coordinator/src/index.ts';
import { createJob } from '../coordinator/src/scheduler/jobs.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, openInWindows } from '../e2e/chromium.ts';
import { addRows, machine, writeResults } from './report.ts';
import { TrainTiming } from './train-timing.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '40' },
    tabs: { type: 'string', default: '1,3' },
    units: { type: 'string' },
    /** `off` skips the Node baseline (long on a loaded machine); its column then says so. */
    baseline: { type: 'string', default: 'on' },
    /** `buffered`: the same units as FedBuff (a version every unitsPerRound updates, no rounds). */
    strategy: { type: 'string', default: 'fedavg' },
    /** `off`: the tabs share one window (the ones not in front then run at a lower priority). */
    windows: { type: 'string', default: 'on' },
    /** `speed`: units sized to each tab's measured speed (rounds.unitSizing); default the demo job's. */
    sizing: { type: 'string' },
    /** N > 1: the first tab's CPU throttled N times (DevTools' CPU throttling), a slower machine. */
    'slow-tab': { type: 'string', default: '1' },
    /** A file: the first tab's CPU profile over the run (DevTools' format, .cpuprofile). */
    'cpu-profile': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'Usage: npm run bench:train -- [--rounds N] [--tabs 1,3] [--units 3,6] [--strategy fedavg|buffered] [--windows off] [--sizing fixed|speed|time] [--slow-tab N] [--cpu-profile FILE] [--baseline off]',
  );
  process.exit(0);
}
if (values.strategy !== 'fedavg' && values.strategy !== 'buffered') {
  console.error(`--strategy: fedavg or buffered, not "${values.strategy}"`);
  process.exit(2);
}
const buffered = values.strategy === 'buffered';
if (values.sizing !== undefined && !['fixed', 'speed', 'time'].includes(values.sizing)) {
  console.error(`--sizing: fixed, speed or time, not "${values.sizing}"`);
  process.exit(2);
}
const sizing = values.sizing as 'fixed' | 'speed' | 'time' | undefined;
const slowTab = Number(values['slow-tab']);
if (!(slowTab >= 1)) {
  console.error(`--slow-tab: a rate of 1 or more, not "${values['slow-tab']}"`);
  process.exit(2);
}
/** Rounds of the demo job's size; a run with more units per round has proportionally fewer. */
const demoRounds = Number(values.rounds);
const tabCounts = values.tabs!.split(',').map(Number);
const DEMO_UNITS = jobSpecSchema.parse(DEMO_JOB).rounds.unitsPerRound;
const unitCounts = values.units ? values.units.split(',').map(Number) : [DEMO_UNITS];
const TARGET = 0.85;

/**
 * One run of the demo job with `tabs` tabs. `unitsPerRound` other than the demo's cuts each round
 * into that many units of the same size, over proportionally fewer rounds: the same units and
 * samples in all, fewer and larger synchronous rounds (a fast tab takes another unit of the round
 * while a slow one finishes its own).
 */
async function distributed(tabs: number, unitsPerRound: number) {
  const rounds = Math.max(1, Math.round((demoRounds * DEMO_UNITS) / unitsPerRound));
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-bench-'));
  const co = await createCoordinator(
    configFromEnv({ PORT: '0', DATA_DIR: dir, GRIDTAB_DEMO_JOB: '0', ADMIN_TOKEN: 'bench' }),
    { log: () => {} },
  );
  const spec: JobSpecInput = {
    ...DEMO_JOB,
    name: `bench ${tabs} tabs, ${unitsPerRound} units per round`,
    rounds: { ...DEMO_JOB.rounds, unitsPerRound, ...(sizing ? { unitSizing: sizing } : {}) },
    stopping: { maxRounds: rounds },
    // Buffered: a version from every unitsPerRound updates, whatever version each was trained on
    // (FedBuff), so no tab waits for the round's slowest unit; the same units and samples.
    ...(buffered
      ? { strategy: { name: 'buffered' as const, bufferSize: unitsPerRound, maxStaleness: 4 } }
      : {}),
  };
  const job = await createJob(co, jobSpecSchema.parse(spec));
  const timing = new TrainTiming(co.scheduler);
  await co.scheduler.openRound(job);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const context = await browser.newContext();
  const started = Date.now();
  // Each tab in a window of its own, as contributors' tabs are (e2e/chromium.ts); --windows off
  // opens them as tabs of one window, as this bench did before 2026-12-07.
  const pages =
    values.windows === 'off'
      ? await Promise.all(
          Array.from({ length: tabs }, async () => {
            const p = await context.newPage();
            await p.goto(`${co.url}/?autostart=1`);
            return p;
          }),
        )
      : await openInWindows(context, `${co.url}/?autostart=1`, tabs);
  // A contributor on a slower machine: Chromium's own CPU throttling on the first tab.
  if (slowTab > 1) {
    const cdp = await context.newCDPSession(pages[0]);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: slowTab });
  }
  // Where the first tab's time goes, for a look in DevTools (Performance > Load profile).
  const profiler = values['cpu-profile'] ? await context.newCDPSession(pages[0]) : null;
  if (profiler) {
    await profiler.send('Profiler.enable');
    await profiler.send('Profiler.start');
  }
  while ((await co.store.getJob(job.id))!.status === 'running') {
    await new Promise((r) => setTimeout(r, 500));
    process.stdout.write(`\r${tabs} tab(s): round ${(await co.store.getJob(job.id))!.round}/${rounds}   `);
  }
  const wallS = (Date.now() - started) / 1000;
  if (profiler) {
    const { profile } = await profiler.send('Profiler.stop');
    writeFileSync(values['cpu-profile']!, JSON.stringify(profile));
  }
  const tabTiming = timing.tabs(timing.lastAcceptedAt());
  const states = await Promise.all(
    pages.map((p) =>
      p.evaluate(
        () =>
          (
            window as unknown as {
              __gridtab: {
                state: {
                  chosenBackend: string;
                  samplesPerSec: number;
                  backends: unknown;
                  timing?: Record<string, number>;
                };
              };
            }
          ).__gridtab.state,
      ),
    ),
  );
  await browser.close();
  // The last version's evaluation may still be running (it is off the path to the next unit).
  await co.scheduler.idle();
  const versions = await co.store.listVersions(job.id);
  let samples = 0;
  let reached: { round: number; samples: number; seconds: number } | null = null;
  for (const v of versions.slice(1)) {
    samples += v.numSamples;
    if (!reached && (v.metrics.testAccuracy ?? 0) >= TARGET) {
      reached = { round: v.round, samples, seconds: (Date.parse(v.createdAt) - started) / 1000 };
    }
  }
  const contributors = await co.store.listContributors();
  await co.close();
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write('\n');
  return {
    tabs,
    unitsPerRound,
    strategy: values.strategy,
    windows: values.windows !== 'off',
    unitSizing: jobSpecSchema.parse(spec).rounds.unitSizing ?? 'fixed',
    slowTab,
    rounds,
    samples,
    wallSeconds: wallS,
    samplesPerSecTotal: samples / wallS,
    samplesPerSecPerTab: contributors.map((c) => c.samplesDone / wallS),
    unitSamplesPerSecPerTab: states.map((s) => s.samplesPerSec),
    chosenBackends: states.map((s) => s.chosenBackend),
    backendScores: states[0].backends,
    finalAccuracy: versions.at(-1)!.metrics.testAccuracy,
    reached85: reached,
    /** Training time each tab reported over its wall time from its first unit to the last update. */
    busyPerTab: tabTiming.map((t) => t.busy),
    tabTiming,
    /**
     * Where each tab's time went, as the tab measured it (ms summed over its units): the wait
     * from one unit's answered submit to the next unit in hand, downloads, setup before the
     * first step, training, submit (client/src/runtime/types.ts, UnitTimings).
     */
    tabPhases: states.map((s) => s.timing ?? null),
    /** A round's last accepted update to the next round's first assignment. */
    roundTurnaround: timing.turnaround(),
    /** How far apart a round's units went out, its updates came in, and their training times were. */
    roundSpread: timing.spread(),
  };
}

/** The same model and optimizer in one Node process (TF.js wasm), on the same number of samples. */
async function baseline(samples: number) {
  const backend = await initTf();
  const data = loadFashionMnist(process.env.FASHION_MNIST_DIR || DEFAULT_FASHION_MNIST_DIR);
  const spec = imageDataSpec('fashion-mnist', [28, 28, 1], 10);
  const train = shardToTensors(encodeShard(imageShard(data.train)), spec);
  const test = shardToTensors(encodeShard(imageShard(data.test)), spec);
  const model = await buildModel(DEMO_JOB.model as Record<string, unknown>);
  const hp = jobSpecSchema.parse(DEMO_JOB).hyperparameters;
  const opt = tf.train.adam(hp.learningRate);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const steps = Math.round(samples / hp.batchSize);
  const n = train.count;
  let order = tf.util.createShuffledIndices(n);
  let cursor = 0;
  const started = performance.now();
  for (let s = 0; s < steps; s++) {
    if (cursor + hp.batchSize > n) {
      order = tf.util.createShuffledIndices(n);
      cursor = 0;
    }
    const idx = tf.tensor1d(Int32Array.from(order.subarray(cursor, cursor + hp.batchSize)), 'int32');
    cursor += hp.batchSize;
    // Gathered before the tape, as the tabs' trainer does (a gather on the tape clones its input).
    const xb = tf.gather(train.x, idx);
    const yb = tf.gather(train.y, idx) as tf.Tensor2D;
    const cost = opt.minimize(
      () => {
        const p = model.apply(xb, { training: true }) as tf.Tensor2D;
        return tf.mean(crossEntropyPerSample(p, yb)) as tf.Scalar;
      },
      true,
      vars,
    )!;
    tf.dispose([xb, yb]);
    if (s % 50 === 0) await cost.data();
    cost.dispose();
    idx.dispose();
    if (s % 500 === 0) process.stdout.write(`\rbaseline: step ${s}/${steps}   `);
  }
  const seconds = (performance.now() - started) / 1000;
  const { accuracy, loss } = await evaluate(model, test.x, test.y, spec);
  process.stdout.write('\n');
  return {
    backend,
    samples: steps * hp.batchSize,
    seconds,
    samplesPerSec: (steps * hp.batchSize) / seconds,
    testAccuracy: accuracy,
    testLoss: loss,
  };
}

const runs = [];
for (const tabs of tabCounts)
  for (const units of unitCounts) {
    const run = await distributed(tabs, units);
    runs.push(run);
    // Printed as it ends: on a busy machine the Node baseline after the runs can take long.
    console.log(
      JSON.stringify({
        tabs,
        unitsPerRound: units,
        busyPerTab: run.busyPerTab,
        roundTurnaround: run.roundTurnaround,
        tabPhases: run.tabPhases,
      }),
    );
    console.log(JSON.stringify({ ...run, backendScores: undefined, loadAverage: loadavg() }));
  }
const base = values.baseline === 'off' ? null : await baseline(runs[0].samples);
const result = {
  machine: machine(),
  /** The 1/5/15-minute load average when the runs ended (the machine may be shared). */
  loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
  model: 'fashion-mlp',
  hyperparameters: DEMO_JOB.hyperparameters,
  runs,
  baseline: base,
};
console.log(JSON.stringify(result, null, 2));
writeResults('train', result);
const day = result.machine.date.slice(0, 10);
/** The tabs column; a run whose rounds are not the demo job's says how they were cut. */
const tabsCell = (r: { tabs: number; unitsPerRound: number }) =>
  (r.unitsPerRound === DEMO_UNITS ? `${r.tabs}` : `${r.tabs} (${r.unitsPerRound} units per round)`) +
  (buffered ? ` (buffered: a version every ${r.unitsPerRound} updates)` : '');
addRows(
  'bench:train rows',
  runs.map((r) => {
    const pt = r.samplesPerSecPerTab.map((x) => Math.round(x)).join(' / ');
    const hit = r.reached85
      ? `${r.reached85.seconds.toFixed(0)} s, ${(r.reached85.samples / 1000).toFixed(0)}k samples (round ${r.reached85.round})`
      : 'not reached';
    return `| ${day} | ${tabsCell(r)} | ${r.chosenBackends.join(', ')} | ${pt} | ${Math.round(r.samplesPerSecTotal)} | ${hit} | ${r.rounds} rounds, ${(r.samples / 1000).toFixed(0)}k samples: ${((r.finalAccuracy ?? 0) * 100).toFixed(2)}% | ${base ? `${((base.testAccuracy ?? 0) * 100).toFixed(2)}% at ${Math.round(base.samplesPerSec)} samples/s (${base.backend})` : 'not run (--baseline off)'} |`;
  }),
);
addRows(
  'bench:train busy rows',
  runs.map((r) => {
    const busy = r.busyPerTab.map((b) => `${Math.round(b * 100)}%`).join(' / ');
    const t = r.roundTurnaround;
    return `| ${day} | ${tabsCell(r)} | ${busy} | ${t.meanMs} / ${t.p50Ms} / ${t.maxMs} ms (${t.rounds} rounds) | ${result.loadAverage.join(', ')} |`;
  }),
);
process.exit(0);
