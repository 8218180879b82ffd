/**
 * `npm run bench:wire`: bytes on the wire per accepted sample for each update codec, against
 * fp32 FedAvg, with the final accuracy. Fashion-MNIST (the real IDX files, imported as the
 * coordinator always does), the demo job's model and hyperparameters, a fixed number of rounds,
 * Node contributors (wasm) against a coordinator in this process; one job per codec, one after
 * the other, same seed and shards. Counted: every `unit:submit` a contributor sends (binary
 * payload plus its JSON meta), as the coordinator's socket receives it; socket.io framing and
 * the downloads (weights, shards: the same for every codec) are not. Writes
 * bench/results/wire.json and rows under `## Wire` in docs/BENCHMARKS.md.
 * Each run is a strategy and a codec: `fedavg` and `buffered` (bufferSize = units a round, so the
 * same updates per version) use the demo job's 50 local steps for --rounds versions; `diloco`
 * runs --diloco-steps local steps (AdamW) a unit for --diloco-rounds rounds, trading more local
 * computation for fewer, larger steps on the wire. Chunk pieces count as submits.
 * Options: --rounds N (default 15), --contributors N (default 3),
 * --runs fedavg:fp32,fedavg:int8,buffered:fp32,diloco:int8,diloco:topk:0.1,... (codecs as below),
 * --codecs fp32,fp16,int8,topk:0.1 (shorthand for fedavg runs), --diloco-steps N (default 1500),
 * --diloco-rounds N (default 2), --outer-lr X (default 0.7), --outer-momentum X (default 0.9),
 * --out NAME (results file, default wire: a partial re-run keeps the full run's file)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONTRIBUTOR_NAMESPACE, type CodecSpec, jobSpecSchema, type StrategyName } from '@gridtab/shared';
import { createNodeContributor } from '../client/src/runtime/index.ts';
import { DEMO_JOB } from '../coordinator/src/bootstrap.ts';
import { configFromEnv } from '../coordinator/src/config.ts';
import { createCoordinator } from '../coordinator/src/index.ts';
import { createJob } from '../coordinator/src/scheduler/jobs.ts';
import { addRows, machine, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    contributors: { type: 'string', default: '3' },
    codecs: { type: 'string' },
    runs: { type: 'string' },
    'diloco-steps': { type: 'string', default: '1500' },
    'diloco-rounds': { type: 'string', default: '2' },
    'outer-lr': { type: 'string', default: '0.7' },
    'outer-momentum': { type: 'string', default: '0.9' },
    out: { type: 'string', default: 'wire' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'Usage: npm run bench:wire -- [--rounds N] [--contributors N] [--codecs fp32,int8,topk:0.01] [--runs fedavg:fp32,diloco:int8,buffered:fp32] [--diloco-steps N] [--diloco-rounds N] [--out NAME]\nWrites bench/results/NAME.json (default wire) and rows in docs/BENCHMARKS.md.',
  );
  process.exit(0);
}
const rounds = Number(values.rounds);
const contributorCount = Number(values.contributors);
const dilocoSteps = Number(values['diloco-steps']);
const dilocoRounds = Number(values['diloco-rounds']);
const DEFAULT_RUNS =
  'fedavg:fp32,fedavg:fp16,fedavg:int8,fedavg:topk:0.1,fedavg:topk:0.05,fedavg:topk:0.01,buffered:fp32,buffered:int8,diloco:fp32,diloco:int8,diloco:topk:0.1';
const runSpecs = values.codecs
  ? values.codecs.split(',').map((c) => `fedavg:${c}`)
  : (values.runs ?? DEFAULT_RUNS).split(',');

function parseCodec(text: string): CodecSpec {
  const [name, arg] = text.split(':');
  if (name === 'topk') return { name, fraction: Number(arg ?? 0.01) };
  if (name === 'int8') return { name, blockSize: Number(arg ?? 256) };
  if (name === 'fp32' || name === 'fp16') return { name };
  throw new Error(`unknown codec ${text}`);
}
const codecLabel = (c: CodecSpec) =>
  c.name === 'topk' ? `topk ${c.fraction}` : c.name === 'int8' ? `int8/${c.blockSize}` : c.name;

async function run(strategy: StrategyName, codec: CodecSpec) {
  const label = (c: CodecSpec) => `${strategy} ${codecLabel(c)}`;
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-wire-'));
  const co = await createCoordinator(
    configFromEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      GRIDTAB_DEMO_JOB: '0',
      ADMIN_TOKEN: 'bench',
    }),
    // Only failures: a refused or failed submit would distort the bytes per accepted sample.
    { log: (m) => /failed|Error/.test(m) && console.error(m) },
  );
  let bytes = 0;
  let submits = 0;
  co.io.of(CONTRIBUTOR_NAMESPACE).on('connection', (socket) => {
    socket.use(([event, meta, payload], next) => {
      if (event === 'unit:submit' || event === 'unit:chunk') {
        if (event === 'unit:submit') submits++;
        bytes += JSON.stringify(meta).length + ((payload as Uint8Array | undefined)?.byteLength ?? 0);
      }
      next();
    });
  });
  const units = DEMO_JOB.rounds?.unitsPerRound ?? 3;
  const spec = jobSpecSchema.parse({
    ...DEMO_JOB,
    name: `wire ${label(codec)}`,
    codec,
    ...(strategy === 'diloco'
      ? {
          strategy: {
            name: 'diloco',
            outerLearningRate: Number(values['outer-lr']),
            outerMomentum: Number(values['outer-momentum']),
          },
          hyperparameters: { ...DEMO_JOB.hyperparameters, localSteps: dilocoSteps },
          rounds: { ...DEMO_JOB.rounds, leaseMs: 3_600_000, deadlineMs: 3_600_000 },
          stopping: { maxRounds: dilocoRounds },
        }
      : {
          strategy: strategy === 'buffered' ? { name: 'buffered', bufferSize: units } : { name: 'fedavg' },
          stopping: { maxRounds: rounds },
        }),
  });
  const job = await createJob(co, spec);
  await co.scheduler.openRound(job);
  const contributors = Array.from({ length: contributorCount }, () =>
    createNodeContributor({
      coordinatorUrl: co.url,
      benchmarkMs: 200,
      log: (m) => /refused|failed/.test(m) && console.error(m),
    }),
  );
  const started = Date.now();
  await Promise.all(contributors.map((c) => c.start()));
  while ((await co.store.getJob(job.id))!.status === 'running') {
    await new Promise((r) => setTimeout(r, 500));
  }
  const wallS = (Date.now() - started) / 1000;
  for (const c of contributors) await c.stop();
  const versions = await co.store.listVersions(job.id);
  const samples = versions.reduce((n, v) => n + v.numSamples, 0);
  const accepted = versions.reduce((n, v) => n + v.unitIds.length, 0);
  await co.close();
  rmSync(dir, { recursive: true, force: true });
  const accuracy = versions.at(-1)!.metrics.testAccuracy!;
  process.stdout.write(`\r${label(codec)}: ${(bytes / samples).toFixed(2)} B/sample, accuracy ${accuracy}\n`);
  return {
    strategy,
    codec,
    label: label(codec),
    rounds: spec.stopping.maxRounds,
    localSteps: spec.hyperparameters.localSteps,
    submits,
    accepted,
    samples,
    bytes,
    bytesPerSample: bytes / samples,
    accuracy,
    wallS,
  };
}

const runs = [];
for (const r of runSpecs) {
  const [strategy, ...codec] = r.split(':');
  if (!['fedavg', 'buffered', 'diloco'].includes(strategy)) throw new Error(`unknown strategy in ${r}`);
  runs.push(await run(strategy as StrategyName, parseCodec(codec.join(':'))));
}
// The baseline: fp32 FedAvg of this run.
const fp32 = runs.find((r) => r.codec.name === 'fp32' && r.strategy === 'fedavg');
const rows = runs.map((r) => ({
  ...r,
  reduction: fp32 ? fp32.bytesPerSample / r.bytesPerSample : null,
  accuracyDeltaPoints: fp32 ? (r.accuracy - fp32.accuracy) * 100 : null,
}));
const result = {
  machine: machine(),
  job: { ...DEMO_JOB, model: 'fashion-mlp', stopping: { maxRounds: rounds } },
  diloco: {
    localSteps: dilocoSteps,
    rounds: dilocoRounds,
    outerLearningRate: Number(values['outer-lr']),
    outerMomentum: Number(values['outer-momentum']),
  },
  contributors: contributorCount,
  rows,
};
console.log(`wrote ${writeResults(values.out!, result)}`);
const date = result.machine.date.slice(0, 10);
addRows(
  'bench:wire rows',
  rows.map(
    (r) =>
      `| ${date} | ${r.label} | ${r.rounds} x ${r.localSteps} | ${r.samples} | ${r.bytesPerSample.toFixed(2)} | ${r.reduction?.toFixed(1) ?? '-'}x | ${(r.accuracy * 100).toFixed(2)}% | ${r.accuracyDeltaPoints === null ? '-' : `${r.accuracyDeltaPoints >= 0 ? '+' : ''}${r.accuracyDeltaPoints.toFixed(2)}`} |`,
  ),
);
process.exit(0);
