/**
 * `npm run bench:tolerance`: the measurements behind the spot-check tolerance
 * (DEFAULT_SPOT_CHECK_TOLERANCE). One demo-job unit (50 Adam steps of 64 on 4 Fashion-MNIST
 * shards) trained on each backend from the same base, compared by relative L2 distance with a
 * wasm replica: wasm vs cpu, webgpu (Dawn + SwiftShader here) vs wasm on the layers loss and on
 * the fused loss the tabs use on webgpu; and what cheating looks like (fewer steps, another seed,
 * zeros). Twice: from the initial weights, and from a base moved by 4 honest units (a model that
 * has started to be confident). Writes bench/results/tolerance.json.
 */
import {
  DEFAULT_SPOT_CHECK_TOLERANCE,
  encodeShard,
  imageDataSpec,
  imageShard,
  MODEL_PRESETS,
  type WorkUnit,
} from '@gridtab/shared';
import { buildModel, getFlatWeights } from '@gridtab/shared/tf';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Trainer } from '@gridtab/shared/trainer';
import { DEFAULT_FASHION_MNIST_DIR, loadFashionMnist } from '../coordinator/src/datasets/fashion-mnist.ts';
import { relativeDistance } from '../coordinator/src/reputation/recompute.ts';
import { setUpWebGPU } from '../kernels/src/testing/backends.ts';
import { addRows, machine, writeResults } from './report.ts';

let webgpu = true;
try {
  await setUpWebGPU();
} catch (e) {
  webgpu = false;
  console.warn(`no webgpu here (${(e as Error).message}); measuring wasm and cpu only`);
}
const data = loadFashionMnist(DEFAULT_FASHION_MNIST_DIR);
const shard = (k: number) =>
  encodeShard(
    imageShard({
      count: 1000,
      rows: 28,
      cols: 28,
      pixels: data.train.pixels.subarray(k * 784_000, (k + 1) * 784_000),
      labels: data.train.labels.subarray(k * 1000, (k + 1) * 1000),
    }),
  );
const shards = [0, 1, 2, 3].map(shard);
const unit = (localSteps: number, seed: number): WorkUnit => ({
  unitId: 'bench.r1.u0',
  leaseId: 'l',
  jobId: 'bench',
  round: 1,
  baseVersionId: 'v',
  baseWeightsHash: 'h',
  model: MODEL_PRESETS['fashion-mlp'],
  datasetId: 'fashion-mnist',
  data: imageDataSpec('fashion-mnist', [28, 28, 1], 10),
  shardHashes: ['s'],
  batchSize: 64,
  localSteps,
  learningRate: 0.001,
  optimizer: 'adam',
  seed,
  codec: { name: 'fp32' },
  deadline: 0,
});
await tf.setBackend('cpu');
const model = await buildModel(MODEL_PRESETS['fashion-mlp']);
let base = await getFlatWeights(model);
model.dispose();
const trainer = new Trainer();
const train = async (backend: string, steps: number, opts: { seed?: number; fused?: boolean } = {}) => {
  await tf.setBackend(backend);
  const r = await trainer.trainUnit(
    unit(steps, opts.seed ?? 7),
    base,
    shards,
    () => {},
    () => false,
    {
      fused: opts.fused,
    },
  );
  return r.delta;
};

const stages: Record<string, Record<string, number>> = {};
for (const stage of ['initial weights', 'after 4 honest units']) {
  const wasm = await train('wasm', 50);
  const wasmFused = await train('wasm', 50, { fused: true });
  const d: Record<string, number> = {
    'cpu vs wasm (layers loss)': relativeDistance(await train('cpu', 50), wasm),
    'wasm repeated': relativeDistance(await train('wasm', 50), wasm),
    'cpu vs wasm (fused loss)': relativeDistance(await train('cpu', 50, { fused: true }), wasmFused),
  };
  if (webgpu) {
    const gpu = await train('webgpu', 50); // fused, as a tab on webgpu trains
    d['webgpu (fused) vs wasm replica on the layers loss'] = relativeDistance(gpu, wasm);
    d['webgpu (fused) vs wasm replica on the fused loss'] = relativeDistance(gpu, wasmFused);
  }
  d['45 of 50 steps'] = relativeDistance(await train('wasm', 45), wasm);
  d['25 of 50 steps'] = relativeDistance(await train('wasm', 25), wasm);
  d['another seed'] = relativeDistance(await train('wasm', 50, { seed: 8 }), wasm);
  d['zero update'] = relativeDistance(new Float32Array(wasm.length), wasm);
  stages[stage] = d;
  console.log(stage, d);
  for (let k = 0; k < 4; k++) {
    const step = await train('wasm', 50, { seed: 100 + k });
    base = base.map((v, i) => v + step[i]);
  }
}
trainer.dispose();
const file = writeResults('tolerance', {
  machine: machine(),
  unit: '50 Adam steps of 64 (lr 0.001) on 4 Fashion-MNIST shards, demo MLP',
  tolerance: DEFAULT_SPOT_CHECK_TOLERANCE,
  relativeL2: stages,
});
console.log(`wrote ${file}`);
const day = new Date().toISOString().slice(0, 10);
const e = (x: number | undefined) => (x === undefined ? 'n/a' : x < 0.01 ? x.toExponential(1) : x.toFixed(3));
addRows(
  'bench:tolerance rows',
  Object.entries(stages).map(
    ([stage, d]) =>
      `| ${day} | ${stage} | ${e(d['cpu vs wasm (layers loss)'])} | ${e(d['webgpu (fused) vs wasm replica on the layers loss'])} | ${e(d['webgpu (fused) vs wasm replica on the fused loss'])} | ${e(d['45 of 50 steps'])} | ${e(d['25 of 50 steps'])} | ${e(d['zero update'])} |`,
  ),
);
process.exit(0);
