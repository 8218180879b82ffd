/**
 * `npm run bench:churn`: training through churn and slow tabs. Fashion-MNIST (the real IDX
 * files), the demo job's MLP and hyperparameters, simulated Node contributors (the real runtime,
 * wasm, through the fault harness in client/src/runtime/sim) against a coordinator in this
 * process. Scenarios, each against the clean run of the same strategy in this same run:
 *  - drop: 30% of the tabs vanish at a random point (after 0 to 3 units, holding a lease they
 *    never deliver; the coordinator frees it after the disconnect grace period) -> final accuracy;
 *  - slow: half the tabs are 5x slower (each unit delivered after 4 more times its training
 *    time) -> accepted samples per second.
 * for `fedavg` (rounds of --tabs units, quorum 1) and `buffered` (a version every --tabs
 * updates), the same number of versions. Writes bench/results/churn.json and rows under
 * `## Churn` in docs/BENCHMARKS.md.
 * Options: --tabs N (default 6), --versions N (default 5), --strategies fedavg,buffered,
 * --scenarios clean,drop,slow, --seed N (default 1), --local-steps N (default 50).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jobSpecSchema, mulberry32, type StrategyName } from '@gridtab/shared';
import { simContributor } from '../client/src/runtime/sim/index.ts';
import { DEMO_JOB } from '../coordinator/src/bootstrap.ts';
import { configFromEnv } from '../coordinator/src/config.ts';
import { createCoordinator } from '../coordinator/src/index.ts';
import { createJob } from '../coordinator/src/scheduler/jobs.ts';
import { addRows, machine, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    tabs: { type: 'string', default: '6' },
    versions: { type: 'string', default: '5' },
    strategies: { type: 'string', default: 'fedavg,buffered' },
    scenarios: { type: 'string', default: 'clean,drop,slow' },
    seed: { type: 'string', default: '1' },
    'local-steps': { type: 'string', default: '50' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'Usage: npm run bench:churn -- [--tabs N] [--versions N] [--strategies fedavg,buffered] [--scenarios clean,drop,slow] [--seed N]',
  );
  process.exit(0);
}
const tabs = Number(values.tabs);
const versions = Number(values.versions);
type Scenario = 'clean' | 'drop' | 'slow';
const DROP_FRACTION = 0.3;
const SLOW_FACTOR = 5;

async function run(strategy: StrategyName, scenario: Scenario) {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-churn-'));
  const co = await createCoordinator(
    configFromEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      GRIDTAB_DEMO_JOB: '0',
      ADMIN_TOKEN: 'bench',
    }),
    { log: (m) => /failed|Error/.test(m) && console.error(m) },
  );
  const spec = jobSpecSchema.parse({
    ...DEMO_JOB,
    name: `churn ${strategy} ${scenario}`,
    strategy: strategy === 'buffered' ? { name: 'buffered', bufferSize: tabs, maxStaleness: 4 } : 'fedavg',
    hyperparameters: { ...DEMO_JOB.hyperparameters, localSteps: Number(values['local-steps']) },
    rounds: { ...DEMO_JOB.rounds, unitsPerRound: tabs },
    stopping: { maxRounds: versions },
  });
  const job = await createJob(co, spec);
  await co.scheduler.openRound(job);
  const rand = mulberry32(Number(values.seed));
  const dropping = scenario === 'drop' ? Math.round(tabs * DROP_FRACTION) : 0;
  const slow = scenario === 'slow' ? Math.floor(tabs / 2) : 0;
  const sims = Array.from({ length: tabs }, (_, i) =>
    simContributor({
      coordinatorUrl: co.url,
      dropAfterUnits: i < dropping ? Math.floor(rand() * 4) : undefined,
      slowFactor: i >= tabs - slow ? SLOW_FACTOR : undefined,
    }),
  );
  const started = Date.now();
  await Promise.all(sims.map((s) => s.contributor.start()));
  while ((await co.store.getJob(job.id))!.status === 'running') await new Promise((r) => setTimeout(r, 250));
  const wallS = (Date.now() - started) / 1000;
  for (const s of sims) await s.contributor.stop();
  const list = await co.store.listVersions(job.id);
  const samples = list.reduce((n, v) => n + v.numSamples, 0);
  const accepted = list.reduce((n, v) => n + v.unitIds.length, 0);
  await co.close();
  rmSync(dir, { recursive: true, force: true });
  const accuracy = list.at(-1)!.metrics.testAccuracy!;
  const row = {
    strategy,
    scenario,
    tabs,
    dropping,
    slow,
    versions: list.length - 1,
    accepted,
    samples,
    wallS,
    samplesPerSec: samples / wallS,
    accuracy,
  };
  console.log(
    `${strategy} ${scenario}: accuracy ${(accuracy * 100).toFixed(2)}%, ${row.samplesPerSec.toFixed(0)} samples/s over ${wallS.toFixed(1)} s`,
  );
  return row;
}

const rows: Awaited<ReturnType<typeof run>>[] = [];
for (const strategy of values.strategies!.split(',') as StrategyName[])
  for (const scenario of values.scenarios!.split(',') as Scenario[]) rows.push(await run(strategy, scenario));
const withBaseline = rows.map((r) => {
  const clean = rows.find((c) => c.strategy === r.strategy && c.scenario === 'clean');
  return {
    ...r,
    accuracyVsCleanPoints: clean ? (r.accuracy - clean.accuracy) * 100 : null,
    throughputVsClean: clean ? r.samplesPerSec / clean.samplesPerSec : null,
  };
});
const result = {
  machine: machine(),
  job: {
    ...DEMO_JOB,
    model: 'fashion-mlp',
    hyperparameters: { ...DEMO_JOB.hyperparameters, localSteps: Number(values['local-steps']) },
    rounds: { ...DEMO_JOB.rounds, unitsPerRound: tabs },
  },
  versions,
  dropFraction: DROP_FRACTION,
  slowFactor: SLOW_FACTOR,
  rows: withBaseline,
};
console.log(`wrote ${writeResults('churn', result)}`);
const date = result.machine.date.slice(0, 10);
const signed = (x: number | null, digits: number) =>
  x === null ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
addRows(
  'bench:churn rows',
  withBaseline.map(
    (r) =>
      `| ${date} | ${r.strategy} | ${r.scenario} | ${r.tabs} (${r.dropping} drop, ${r.slow} slow) | ${r.versions} | ${r.samples} | ${r.wallS.toFixed(1)} | ${r.samplesPerSec.toFixed(0)} | ${r.throughputVsClean === null ? '-' : `${(r.throughputVsClean * 100).toFixed(0)}%`} | ${(r.accuracy * 100).toFixed(2)}% | ${signed(r.accuracyVsCleanPoints, 2)} |`,
  ),
);
process.exit(0);
