/**
 * `npm run bench:evaluate`: how long the coordinator takes to evaluate one version on Fashion-MNIST's
 * 10,000 test rows (TF.js wasm, one thread), for the demo MLP and the CNN preset. GridTab's way
 * (the test set cut into batches once and kept, shared/src/tf.ts toBatches) against the way it
 * evaluated before, in the same run: a 200-row slice of the test tensor per batch and
 * `model.predict` with its default batch of 32. Both must give the same accuracy and loss; the
 * bench fails if they do not. Writes bench/results/evaluate.json and a row in docs/BENCHMARKS.md.
 * Options: --repeats N (default 3), --models fashion-mlp,fashion-cnn.
 */
import { parseArgs } from 'node:util';
import { encodeShard, imageDataSpec, imageShard, MODEL_PRESETS, type ModelPresetName } from '@gridtab/shared';
import {
  buildModel,
  crossEntropyPerSample,
  disposeBatches,
  evaluateBatches,
  shardToTensors,
  toBatches,
} from '@gridtab/shared/tf';
import { DEFAULT_FASHION_MNIST_DIR, loadFashionMnist } from '../coordinator/src/datasets/fashion-mnist.ts';
import { EVAL_BATCH_ROWS } from '../coordinator/src/evaluation/evaluator.ts';
import { initTf, tf } from '../coordinator/src/evaluation/tf-node.ts';
import { addRows, machine, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '3' },
    models: { type: 'string', default: 'fashion-mlp,fashion-cnn' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: npm run bench:evaluate -- [--repeats N] [--models fashion-mlp,fashion-cnn]');
  process.exit(0);
}
const repeats = Number(values.repeats);
if (!(Number.isInteger(repeats) && repeats >= 1)) {
  console.error(`--repeats: a whole number of 1 or more, not "${values.repeats}"`);
  process.exit(2);
}
const models = values.models!.split(',') as ModelPresetName[];
for (const m of models) {
  if (!(m in MODEL_PRESETS)) {
    console.error(`--models: one of ${Object.keys(MODEL_PRESETS).join(', ')}, not "${m}"`);
    process.exit(2);
  }
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** The evaluation GridTab did before (a slice of the test tensor per batch, predict's default batch). */
async function sliced(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor2D) {
  const n = x.shape[0];
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < n; start += EVAL_BATCH_ROWS) {
    if (start > 0) await yieldToLoop();
    const size = Math.min(EVAL_BATCH_ROWS, n - start);
    const xb = x.slice([start, 0, 0, 0], [size, -1, -1, -1]);
    const yb = y.slice([start, 0], [size, -1]);
    const p = model.predict(xb) as tf.Tensor2D;
    lossSum += tf.tidy(() => tf.sum(crossEntropyPerSample(p, yb))).dataSync()[0];
    correct += tf.tidy(() => tf.equal(tf.argMax(p, 1), tf.argMax(yb, 1)).sum()).dataSync()[0];
    tf.dispose([xb, yb, p]);
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

/** Wall and CPU milliseconds of `run`, and what it returned. */
async function timed<T>(run: () => Promise<T>): Promise<{ wallMs: number; cpuMs: number; result: T }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const result = await run();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - t, cpuMs: (used.user + used.system) / 1000, result };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const backend = await initTf();
const data = loadFashionMnist(process.env.FASHION_MNIST_DIR || DEFAULT_FASHION_MNIST_DIR);
const spec = imageDataSpec('fashion-mnist', [28, 28, 1], 10);
const test = shardToTensors(encodeShard(imageShard(data.test)), spec);
const results = [];
for (const name of models) {
  const model = await buildModel(MODEL_PRESETS[name] as unknown as Record<string, unknown>);
  const cut = await timed(async () => toBatches(test.x, test.y, EVAL_BATCH_ROWS));
  const batches = cut.result;
  const ours = [];
  const before = [];
  // Alternated, so a change in the machine's load falls on both.
  for (let r = 0; r < repeats; r++) {
    process.stdout.write(`\r${name}: run ${r + 1}/${repeats}   `);
    ours.push(await timed(() => evaluateBatches(model, batches, spec, yieldToLoop)));
    before.push(await timed(() => sliced(model, test.x, test.y)));
  }
  const a = ours[0].result;
  const b = before[0].result;
  if (a.accuracy !== b.accuracy || Math.abs(a.loss - b.loss) > 1e-5 * Math.max(1, Math.abs(b.loss))) {
    throw new Error(
      `${name}: the two evaluations disagree: ${JSON.stringify(a)} against ${JSON.stringify(b)}`,
    );
  }
  disposeBatches(batches);
  model.dispose();
  results.push({
    model: name,
    rows: test.count,
    batchRows: EVAL_BATCH_ROWS,
    cutOnceMs: Math.round(cut.wallMs),
    batchesOnce: { wallMs: median(ours.map((o) => o.wallMs)), cpuMs: median(ours.map((o) => o.cpuMs)) },
    slicedPerBatch: {
      wallMs: median(before.map((o) => o.wallMs)),
      cpuMs: median(before.map((o) => o.cpuMs)),
    },
    speedup: median(before.map((o) => o.wallMs)) / median(ours.map((o) => o.wallMs)),
    accuracy: a.accuracy,
  });
}
process.stdout.write('\n');
const out = { machine: machine(), backend, repeats, results };
console.log(JSON.stringify(results, null, 2));
console.log(`wrote ${writeResults('evaluate', out)}`);
const day = out.machine.date.slice(0, 10);
addRows(
  'bench:evaluate rows',
  results.map(
    (r) =>
      `| ${day} | ${r.model} | ${Math.round(r.batchesOnce.wallMs)} ms (${Math.round(r.batchesOnce.cpuMs)} ms CPU) | ${Math.round(r.slicedPerBatch.wallMs)} ms (${Math.round(r.slicedPerBatch.cpuMs)} ms CPU) | ${r.speedup.toFixed(1)}x | ${out.machine.cpu}, ${out.machine.cores} cores |`,
  ),
);
