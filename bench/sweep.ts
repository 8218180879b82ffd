/**
 * `npm run bench:sweep`: a Fashion-MNIST hyperparameter sweep (learning rate x batch size, the
 * MLP preset) run twice in one process against the same coordinator and Node contributors
 * (wasm): first every trial to the last round (grid), then the same grid with ASHA
 * (synchronous successive halving, rungs in samples trained by default). Compares the best
 * trial's test accuracy and the samples each spent. Writes bench/results/sweep.json and a row
 * under `## Sweeps` in docs/BENCHMARKS.md. Options: --rounds N (default 6), --min-samples 3072
 * --rung-count 2 --eta 3 (samples rungs), or --rungs 1,3 (round rungs), --units 2,
 * --contributors N (default 3), --lr 0.0003,0.001,0.003,0.01, --batch 32,64, --steps 48,
 * --data-dir DIR (kept; a second run on it resumes unfinished sweeps, as a restarted
 * coordinator does, and reports them as resumed: their wall time then includes the downtime).
 * --pass grid|asha --out FILE runs one pass and writes its result; --grid FILE --asha FILE
 * reads passes from such files instead of running them (two passes in two processes at once).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type SweepSpecInput, type SweepView, sweepSpecSchema } from '@gridtab/shared';
import { createNodeContributor } from '../client/src/runtime/index.ts';
import { DEMO_JOB } from '../coordinator/src/bootstrap.ts';
import { configFromEnv } from '../coordinator/src/config.ts';
import { createCoordinator } from '../coordinator/src/index.ts';
import { sweepView } from '../coordinator/src/sweeps/views.ts';
import { addRows, machine, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    rungs: { type: 'string' },
    'min-samples': { type: 'string', default: '3072' },
    'rung-count': { type: 'string', default: '2' },
    eta: { type: 'string', default: '3' },
    contributors: { type: 'string', default: '3' },
    lr: { type: 'string', default: '0.0003,0.001,0.003,0.01' },
    batch: { type: 'string', default: '32,64' },
    steps: { type: 'string', default: '48' },
    units: { type: 'string', default: '2' },
    'data-dir': { type: 'string' },
    pass: { type: 'string', default: 'both' },
    out: { type: 'string' },
    grid: { type: 'string' },
    asha: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'Usage: npm run bench:sweep -- [--rounds 6] [--min-samples 3072 --rung-count 2 | --rungs 1,3] [--eta 3] [--contributors 3]',
  );
  process.exit(0);
}
const list = (s: string) => s.split(',').map(Number);
const rounds = Number(values.rounds);

const space = {
  'hyperparameters.learningRate': { type: 'choice' as const, values: list(values.lr!) },
  'hyperparameters.batchSize': { type: 'choice' as const, values: list(values.batch!) },
};
const base = {
  ...DEMO_JOB,
  hyperparameters: { ...DEMO_JOB.hyperparameters, localSteps: Number(values.steps) },
  rounds: { unitsPerRound: Number(values.units), quorum: 1, deadlineMs: 300_000, leaseMs: 120_000 },
  stopping: { maxRounds: rounds },
};
const full: SweepSpecInput = {
  name: 'bench full',
  base,
  space,
  method: { name: 'grid' },
  budget: { maxTrials: 100 },
  metric: 'testAccuracy',
  concurrency: 4,
};
const asha: SweepSpecInput = {
  ...full,
  name: 'bench asha',
  method: values.rungs
    ? { name: 'asha', sampler: 'grid', rungs: list(values.rungs), eta: Number(values.eta) }
    : {
        name: 'asha',
        sampler: 'grid',
        minSamples: Number(values['min-samples']),
        rungCount: Number(values['rung-count']),
        eta: Number(values.eta),
      },
};
type PassResult = Awaited<ReturnType<typeof run>>;
const fromFile = (file: string | undefined): PassResult | null =>
  file ? (JSON.parse(readFileSync(file, 'utf8')) as PassResult) : null;
const given = { grid: fromFile(values.grid), asha: fromFile(values.asha) };
const needed: boolean = values.pass === 'both' ? [!given.grid, !given.asha].some(Boolean) : true;

const dir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'gridtab-sweep-'));
async function start() {
  const co = await createCoordinator(
    configFromEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      GRIDTAB_DEMO_JOB: '0',
      ADMIN_TOKEN: 'bench',
    }),
    { log: (m) => /sweep|failed|Error/.test(m) && console.log(`  ${m}`) },
  );
  const contributors = Array.from({ length: Number(values.contributors) }, () =>
    createNodeContributor({ coordinatorUrl: co.url, benchmarkMs: 300, log: () => {} }),
  );
  await Promise.all(contributors.map((c) => c.start()));
  return { co, contributors };
}
const running: Awaited<ReturnType<typeof start>> | null = needed ? await start() : null;

async function run(spec: SweepSpecInput) {
  const { co } = running!;
  const started = Date.now();
  const earlier = (await co.store.sweeps.listSweeps()).find((s) => s.name === spec.name);
  const created = earlier ?? (await co.sweeps.create(sweepSpecSchema.parse(spec)));
  let view: SweepView;
  for (;;) {
    view = await sweepView(
      co.store,
      (await co.store.sweeps.getSweep(created.id))!,
      true,
      co.sweeps.deviceMsOf(),
    );
    if (view.status !== 'running') break;
    const rows = view.trials!.map((t) => `${t.status[0]}${t.curve.length}`).join(' ');
    process.stdout.write(`\r${spec.name}: ${rows}  ${(view.samples / 1000).toFixed(0)}k samples   `);
    await new Promise((r) => setTimeout(r, 1000));
  }
  process.stdout.write('\n');
  const best = view.trials!.find((t) => t.id === view.best?.trialId)!;
  return {
    method: spec.method,
    /** It was unfinished when this run found it: a restart continued it (downtime in wallSeconds). */
    resumed: earlier?.status === 'running',
    wallSeconds: earlier
      ? (Date.parse(view.endedAt ?? '') - Date.parse(view.createdAt)) / 1000
      : (Date.now() - started) / 1000,
    samples: view.samples,
    deviceSeconds: view.deviceSeconds,
    best: { params: best.params, accuracy: view.best!.value, round: best.best!.round },
    trials: view.trials!.map((t) => ({
      params: t.params,
      status: t.status,
      error: t.error,
      rounds: t.curve.length,
      samples: t.samples,
      deviceSeconds: t.deviceSeconds,
      finalAccuracy: t.curve.at(-1)?.testAccuracy ?? null,
      bestAccuracy: t.best?.value ?? null,
    })),
  };
}

async function finish() {
  if (!running) return;
  for (const c of running.contributors) await c.stop();
  await running.co.close();
}
if (values.pass === 'grid' || values.pass === 'asha') {
  const one = await run(values.pass === 'grid' ? full : asha);
  await finish();
  console.log(JSON.stringify(one, null, 2));
  if (values.out) writeFileSync(values.out, JSON.stringify(one, null, 2));
  process.exit(0);
}
const everyTrial = given.grid ?? (await run(full));
const withAsha = given.asha ?? (await run(asha));
await finish();
if (!values['data-dir']) rmSync(dir, { recursive: true, force: true });

const savedFactor = everyTrial.samples / withAsha.samples;
const gapPoints = (everyTrial.best.accuracy - withAsha.best.accuracy) * 100;
const result = {
  machine: machine(),
  model: 'fashion-mlp',
  space,
  base: { hyperparameters: base.hyperparameters, rounds: base.rounds, maxRounds: rounds },
  contributors: Number(values.contributors),
  everyTrial,
  asha: withAsha,
  samplesSaved: everyTrial.samples - withAsha.samples,
  savedFactor,
  bestGapPoints: gapPoints,
  goalMet: savedFactor >= 2 && gapPoints <= 0.5,
};
console.log(JSON.stringify(result, null, 2));
writeResults('sweep', result);
const day = result.machine.date.slice(0, 10);
const fmt = (r: typeof everyTrial) =>
  `${(r.best.accuracy * 100).toFixed(2)}% (lr ${r.best.params['hyperparameters.learningRate']}, batch ${r.best.params['hyperparameters.batchSize']}), ${(r.samples / 1000).toFixed(0)}k samples, ${r.wallSeconds.toFixed(0)} s${r.resumed ? ' (resumed after a restart)' : ''}`;
const m = withAsha.method as { rungs?: number[]; minSamples?: number; rungCount?: number; eta: number };
const rungText = m.rungs
  ? `rungs at rounds ${m.rungs.join(',')}`
  : `rungs at ${(m.minSamples! / 1000).toFixed(1)}k samples x${m.eta}^0..${(m.rungCount ?? 2) - 1}`;
addRows('bench:sweep rows', [
  `| ${day} | ${everyTrial.trials.length} trials, ${rounds} rounds, ${values.contributors} Node (wasm) | ${fmt(everyTrial)} | ${rungText}, eta ${m.eta}: ${fmt(withAsha)} | ${savedFactor.toFixed(2)}x fewer samples, best ${gapPoints >= 0 ? '-' : '+'}${Math.abs(gapPoints).toFixed(2)} points |`,
]);
process.exit(0);
