/**
 * `npm run bench:cnn`: training throughput of the Fashion-MNIST CNN presets in Node, per
 * backend: TF.js's wasm backend with GridTab's conv gradients (kernels/src/wasm-conv) against
 * TF.js's cpu backend. wasm as shipped cannot train them at all (no Conv2DBackpropFilter); that
 * row is measured too, and reads "cannot train". Also times each conv gradient kernel alone,
 * ours against TF.js's own wasm Conv2DBackpropInput. Writes bench/results/cnn.json.
 * Options: --steps N (timed steps per row, at most 15 s of them; default 10), --batch 32,64.
 * With --tabs instead: the time for three Chromium tabs to bring fashion-cnn to 88% test accuracy
 * (bench/cnn-tabs.ts), with --limit-min M (default 15); writes bench/results/cnn-tabs.json.
 */
import { parseArgs } from 'node:util';
import { registerWasmConvKernels, unregisterWasmConvKernels } from '@gridtab/kernels/wasm-conv';
import { MODEL_PRESETS } from '@gridtab/shared';
import { buildModel } from '@gridtab/shared/tf';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { tabScaling, timeTo88 } from './cnn-tabs.ts';
import { machine, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10' },
    batch: { type: 'string', default: '32,64' },
    tabs: { type: 'boolean', default: false },
    scaling: { type: 'string' },
    'measure-sec': { type: 'string', default: '60' },
    'limit-min': { type: 'string', default: '15' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    [
      'Usage: npm run bench:cnn -- [--steps N] [--batch 32,64]   CNN samples/s per backend in Node',
      '       npm run bench:cnn -- --tabs [--limit-min 15]        time for 3 tabs to reach 88%',
      '       npm run bench:cnn -- --scaling 1,2,3 [--measure-sec 60]',
      '                                                          samples/s of 1, 2, 3 tabs of one Chromium',
    ].join('\n'),
  );
  process.exit(0);
}
if (values.scaling) {
  const counts = values.scaling.split(',').map(Number);
  const rows = await tabScaling(counts, Number(values['measure-sec']) * 1000);
  const one = rows.find((r) => r.tabs === 1)?.samplesPerSec ?? null;
  const result = { rows: rows.map((r) => ({ ...r, ratioToOneTab: one ? r.samplesPerSec / one : null })) };
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${writeResults('cnn-scaling', { machine: machine(), ...result })}`);
  process.exit(0);
}
if (values.tabs) {
  const result = await timeTo88(3, Number(values['limit-min']) * 60_000);
  console.log(JSON.stringify(result, null, 2));
  console.log(`wrote ${writeResults('cnn-tabs', { machine: machine(), ...result })}`);
  process.exit(0);
}
const steps = Number(values.steps);
const batches = values.batch!.split(',').map(Number);
const ROW_BUDGET_MS = 15_000;

/** Adam on random data, the trainer's loss; one untimed warm-up step. */
async function samplesPerSec(preset: 'fashion-cnn' | 'fashion-cnn-small', batch: number): Promise<number> {
  const model = await buildModel(MODEL_PRESETS[preset]);
  const x = tf.randomUniform([batch, 28, 28, 1]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10).toFloat();
  const opt = tf.train.adam(1e-3);
  const step = () =>
    opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
    )!;
  try {
    await step().data();
    const started = performance.now();
    let done = 0;
    // At least one timed step, the rest within ROW_BUDGET_MS: TF.js's cpu backend takes
    // seconds to tens of seconds a step on these models.
    while (done < steps && (done === 0 || performance.now() - started < ROW_BUDGET_MS)) {
      const cost = step();
      await cost.data();
      cost.dispose();
      done++;
    }
    return (done * batch) / ((performance.now() - started) / 1000);
  } finally {
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  }
}

type Row = { model: string; backend: string; batch: number; samplesPerSec: number | null; error?: string };

async function trainingRows(): Promise<Row[]> {
  const rows: Row[] = [];
  const variants: [string, string, () => void][] = [
    ['wasm+gridtab', 'wasm', registerWasmConvKernels],
    ['wasm as shipped', 'wasm', unregisterWasmConvKernels],
    ['cpu', 'cpu', registerWasmConvKernels],
  ];
  for (const preset of ['fashion-cnn', 'fashion-cnn-small'] as const) {
    for (const batch of batches) {
      for (const [label, backend, setup] of variants) {
        setup();
        await tf.setBackend(backend);
        try {
          const rate = await samplesPerSec(preset, batch);
          rows.push({ model: preset, backend: label, batch, samplesPerSec: Math.round(rate) });
        } catch (e) {
          rows.push({
            model: preset,
            backend: label,
            batch,
            samplesPerSec: null,
            error: (e as Error).message,
          });
        }
        console.log(JSON.stringify(rows.at(-1)));
      }
    }
  }
  registerWasmConvKernels();
  return rows;
}

/** ms per call of each gradient at the fashion-cnn layers' shapes (batch 64). */
async function kernelRows() {
  await tf.setBackend('wasm');
  const layers = [
    { name: 'conv1 28x28x1->8 5x5 same', x: [64, 28, 28, 1], w: [5, 5, 1, 8] },
    { name: 'conv2 14x14x8->16 5x5 same', x: [64, 14, 14, 8], w: [5, 5, 8, 16] },
  ];
  const rows = [];
  for (const l of layers) {
    const x = tf.randomUniform(l.x);
    const w = tf.randomUniform(l.w);
    const dy = tf.randomUniform([...l.x.slice(0, 3), l.w[3]]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
    const time = (kernel: string, inputs: tf.NamedTensorMap, extra: object) => {
      const run = () =>
        (tf.engine().runKernel(kernel, inputs, { ...attrs, ...extra }) as tf.Tensor).dataSync();
      run();
      const started = performance.now();
      for (let i = 0; i < steps; i++) run();
      return +((performance.now() - started) / steps).toFixed(2);
    };
    const filterMs = time('Conv2DBackpropFilter', { x, dy }, { filterShape: l.w });
    const inputMs = time('Conv2DBackpropInput', { dy, filter: w }, { inputShape: l.x });
    unregisterWasmConvKernels();
    const shippedInputMs = time('Conv2DBackpropInput', { dy, filter: w }, { inputShape: l.x });
    registerWasmConvKernels();
    rows.push({
      layer: l.name,
      conv2DBackpropFilterMs: filterMs,
      conv2DBackpropInputMs: inputMs,
      tfjsConv2DBackpropInputMs: shippedInputMs,
    });
    console.log(JSON.stringify(rows.at(-1)));
    tf.dispose([x, w, dy]);
  }
  return rows;
}

// The wasm backend must start with TF.js's own kernels registered: it runs their setup at init,
// and "wasm as shipped" needs its Conv2DBackpropInput set up. Ours need no setup.
unregisterWasmConvKernels();
await tf.setBackend('wasm');
await tf.ready();
const training = await trainingRows();
const kernels = await kernelRows();
const file = writeResults('cnn', { machine: machine(), steps, training, kernels });
console.log(`wrote ${file}`);
