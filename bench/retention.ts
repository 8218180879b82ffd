/**
 * `npm run bench:retention`: storage held after N rounds (default 100) of the demo job, with and
 * without retention. One run trains the demo job (Fashion-MNIST, the MLP preset, fp32 updates,
 * published as `fashion` with `production` following its best version, as `npm start` does)
 * with --tabs simulated Node contributors (the real runtime, wasm) against a coordinator in this
 * process, keeping everything (GRIDTAB_RETAIN_UPDATES=keep). Then, on that same store, it
 * applies the policies in turn and measures the blobs held after each:
 *   keep -> after-commit (update blobs, grace 2 rounds, the default) -> + versions last:N.
 * The marks go by round, so applying a policy once at the end leaves the same rows and blobs as
 * applying it every GC interval during the run would. --local-steps (default 5, the demo job
 * trains 50) only shortens training: an update's size does not depend on it.
 * Writes bench/results/retention.json and a row under `## Retention` in docs/BENCHMARKS.md.
 * Options: --rounds N (default 100), --tabs N (default 3), --local-steps N, --keep-last N (default 5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jobSpecSchema } from '@gridtab/shared';
import { simContributor } from '../client/src/runtime/sim/index.ts';
import { DEMO_ALIAS, DEMO_JOB, DEMO_MODEL } from '../coordinator/src/bootstrap.ts';
import { configFromEnv } from '../coordinator/src/config.ts';
import { createCoordinator } from '../coordinator/src/index.ts';
import { createJob } from '../coordinator/src/scheduler/jobs.ts';
import { Retention } from '../coordinator/src/usage/retention.ts';
import { jobStorageBytes, totalStorageBytes } from '../coordinator/src/usage/storage.ts';
import { addRows, machine, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '100' },
    tabs: { type: 'string', default: '3' },
    'local-steps': { type: 'string', default: '5' },
    'keep-last': { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: npm run bench:retention -- [--rounds N] [--tabs N] [--local-steps N] [--keep-last N]');
  process.exit(0);
}
const rounds = Number(values.rounds);
const tabs = Number(values.tabs);
const keepLast = Number(values['keep-last']);
const GRACE = 2;

const dir = mkdtempSync(join(tmpdir(), 'gridtab-retention-'));
const co = await createCoordinator(
  configFromEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    GRIDTAB_DEMO_JOB: '0',
    ADMIN_TOKEN: 'bench',
    GRIDTAB_RETAIN_UPDATES: 'keep',
    GRIDTAB_GC_INTERVAL_MS: String(1e9),
  }),
  { log: (m) => /failed|Error/.test(m) && console.error(m) },
);
const spec = jobSpecSchema.parse({
  ...DEMO_JOB,
  name: 'retention bench (demo job)',
  hyperparameters: { ...DEMO_JOB.hyperparameters, localSteps: Number(values['local-steps']) },
  rounds: { ...DEMO_JOB.rounds, unitsPerRound: tabs },
  stopping: { maxRounds: rounds },
});
const job = await createJob(co, spec);
await co.registry.bindJob(DEMO_MODEL, job.id, { alias: DEMO_ALIAS, metric: 'testAccuracy' });
await co.scheduler.openRound(job);
const sims = Array.from({ length: tabs }, () => simContributor({ coordinatorUrl: co.url }));
const started = Date.now();
await Promise.all(sims.map((s) => s.contributor.start()));
let last = -1;
for (;;) {
  const j = (await co.store.getJob(job.id))!;
  if (j.round !== last && j.round % 10 === 0) process.stdout.write(`round ${j.round}/${rounds}\n`);
  last = j.round;
  if (j.status !== 'running') break;
  await new Promise((r) => setTimeout(r, 250));
}
const trainS = (Date.now() - started) / 1000;
for (const s of sims) await s.contributor.stop();
await co.scheduler.idle();

const versions = await co.store.listVersions(job.id);
const datasetBytes =
  (await totalStorageBytes(co.blobs)) - (await jobStorageBytes(co.store, co.blobs, job.id));
const held = async (policy: string, report: unknown = null) => {
  const total = await totalStorageBytes(co.blobs);
  const row = {
    policy,
    totalBytes: total,
    jobBytes: await jobStorageBytes(co.store, co.blobs, job.id),
    blobs: await (async () => {
      let n = 0;
      for await (const _ of co.blobs.list()) n++;
      return n;
    })(),
    report,
  };
  console.log(`${policy}: ${(row.jobBytes / 1e6).toFixed(2)} MB held by the job (${row.blobs} blobs in all)`);
  return row;
};
const apply = async (policy: string, r: Retention) => {
  const t = performance.now();
  const report = await r.collect();
  return { ...(await held(policy, report)), collectMs: performance.now() - t };
};
const base = {
  store: co.store,
  blobs: co.blobs,
  log: () => {},
  policy: 'after-commit' as const,
  graceRounds: GRACE,
};
const policies = [
  { ...(await held('keep')), collectMs: 0 },
  await apply(`after-commit (grace ${GRACE})`, new Retention(base)),
  await apply(`after-commit + versions last:${keepLast}`, new Retention({ ...base, versions: { keepLast } })),
];
const after = await co.store.listVersions(job.id);
const alias = await co.registry.alias(DEMO_MODEL, DEMO_ALIAS);
const kept = after.filter((v) => !v.pruned).map((v) => v.round);
await co.close();
rmSync(dir, { recursive: true, force: true });

const result = {
  machine: machine(),
  loadAverage: loadavg(),
  note: 'machine shared with other agents; storage figures do not depend on its load',
  job: {
    rounds: versions.length - 1,
    tabs,
    updatesPerRound: tabs,
    localSteps: spec.hyperparameters.localSteps,
    codec: spec.codec ?? { name: 'fp32' },
    trainSeconds: trainS,
    finalAccuracy: versions.at(-1)?.metrics.testAccuracy ?? null,
    productionAlias: alias.versionId,
  },
  datasetBytes,
  policies,
  versionsKept: kept,
};
writeResults('retention', result);
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const [keep, updates, pruned] = policies;
addRows('bench:retention rows', [
  `| ${result.machine.date.slice(0, 10)} | ${result.job.rounds} rounds x ${tabs} fp32 updates (MLP, 407 KB each) | ${mb(keep!.jobBytes)} | ${mb(updates!.jobBytes)} (${updates!.report && (updates!.report as { blobsDeleted: number }).blobsDeleted} blobs freed in ${updates!.collectMs.toFixed(0)} ms) | ${mb(pruned!.jobBytes)} (${kept.length} versions keep weights: rounds ${kept.join(', ')}; ${pruned!.collectMs.toFixed(0)} ms) | ${mb(datasetBytes)} | ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} |`,
]);
process.exit(0);
