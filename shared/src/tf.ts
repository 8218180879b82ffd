/**
 * Model helpers both sides need, written against TF.js: build a model from its layers spec,
 * and move its weights to and from one flat Float32Array (the order of `model.weights`, each
 * tensor row-major). Versions, updates and the wire all use this flat layout.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataSpec, Normalization } from './dataset.ts';
import { decodeShard } from './shard.ts';

export async function buildModel(spec: Record<string, unknown>): Promise<tf.LayersModel> {
  // modelFromJSON takes the same topology object that `model.toJSON(null, false)` produces.
  return tf.models.modelFromJSON({ modelTopology: spec } as unknown as tf.io.ModelJSON);
}

export function paramCount(model: tf.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}

/** Async: a synchronous read of GPU tensors blocks the page, and webgpu in a worker cannot do it. */
export async function getFlatWeights(model: tf.LayersModel): Promise<Float32Array> {
  const out = new Float32Array(paramCount(model));
  let offset = 0;
  for (const w of model.getWeights()) {
    const values = (await w.data()) as Float32Array;
    out.set(values, offset);
    offset += values.length;
  }
  return out;
}

export function setFlatWeights(model: tf.LayersModel, flat: Float32Array): void {
  const expected = paramCount(model);
  if (flat.length !== expected) {
    throw new Error(`weights hold ${flat.length} values; the model has ${expected}`);
  }
  let offset = 0;
  const tensors = model.weights.map((w) => {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(flat.subarray(offset, offset + size), shape, 'float32');
    offset += size;
    return t;
  });
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/** Copies bytes into an aligned Float32Array (socket buffers may start at any offset). */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer, 0, bytes.byteLength >>> 2);
}

export function float32ToBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

type ShardData = Pick<DataSpec, 'task' | 'inputShape' | 'normalization'>;

/**
 * Shard bytes to model inputs and training labels, as the data spec says: inputs shaped
 * [n, ...inputShape] and normalized; classification labels one-hot; regression targets
 * standardized (predictions are mapped back with `denormalizeTargets`).
 */
export function shardToTensors(
  bytes: Uint8Array,
  data: ShardData,
): { x: tf.Tensor; y: tf.Tensor2D; count: number } {
  const shard = fittingShard(bytes, data);
  return tf.tidy(() => {
    const x = tf.tensor(
      normalizedValues(shard.x, data.normalization),
      [shard.count, ...data.inputShape],
      'float32',
    );
    return { x, y: shardLabels(shard, data), count: shard.count };
  });
}

/**
 * Several shards' inputs, normalized, in one float32 array of rows (what shardToTensors' x
 * holds, concatenated), and their labels as one tensor: for a trainer that gathers its batches
 * in JS (wasm and cpu), which would otherwise copy the inputs into a tensor and read them back.
 * The rows are written into `reuse` when it is long enough: a fresh 12.5 MB array for each demo
 * unit cost a tab its page faults and garbage collections.
 */
export function shardsToRows(
  shards: Uint8Array[],
  data: ShardData,
  reuse?: Float32Array,
): { rows: Float32Array; y: tf.Tensor2D; count: number } {
  const decoded = shards.map((bytes) => fittingShard(bytes, data));
  const count = decoded.reduce((n, s) => n + s.count, 0);
  const size = decoded.reduce((n, s) => n + s.x.length, 0);
  const rows = reuse && reuse.length >= size ? reuse.subarray(0, size) : new Float32Array(size);
  let at = 0;
  for (const s of decoded) {
    normalizedValues(s.x, data.normalization, rows, at);
    at += s.x.length;
  }
  const y = tf.tidy(() => {
    const parts = decoded.map((s) => shardLabels(s, data));
    return parts.length === 1 ? parts[0] : (tf.concat(parts) as tf.Tensor2D);
  });
  return { rows, y, count };
}

function fittingShard(bytes: Uint8Array, data: ShardData) {
  const shard = decodeShard(bytes);
  const size = data.inputShape.reduce((a, b) => a * b, 1);
  if (shard.sampleSize !== size)
    throw new Error(
      `shard holds ${shard.sampleSize} values a sample; the input shape ${JSON.stringify(data.inputShape)} needs ${size}`,
    );
  return shard;
}

function shardLabels(shard: ReturnType<typeof decodeShard>, data: ShardData): tf.Tensor2D {
  return tf.tidy(() =>
    data.task.kind === 'classification'
      ? (tf
          .oneHot(tf.tensor1d(Int32Array.from(shard.y), 'int32'), data.task.numClasses)
          .toFloat() as tf.Tensor2D)
      : standardizeTargets(
          tf.tensor2d(shard.y as Float32Array, [shard.count, shard.labelWidth]),
          data.normalization,
        ),
  );
}

/**
 * normalizeInputs on plain values, into a float32 array (a new one, or `out` from `at`): the same
 * float32 operations, so the same values on every backend (bit for bit as wasm and cpu give them;
 * WebGL's division need not be exact), in one pass where the tensor path converted, subtracted
 * and divided in three, each a new model-sized allocation.
 * Byte inputs (pixels) take one of 256 values per feature, so each result is computed once into a
 * table and the pass is a lookup: a demo unit's 2.5M pixels took a Chromium tab 70 ms under load
 * computed one by one (a third of what a unit spent outside training).
 */
export function normalizedValues(
  values: ArrayLike<number>,
  norm: Normalization,
  out: Float32Array = new Float32Array(values.length),
  at = 0,
): Float32Array {
  const mean = Float32Array.from(norm.inputMean);
  const std = Float32Array.from(norm.inputStd);
  const impute = norm.imputation === 'mean';
  const width = mean.length;
  if (width !== std.length || width === 0 || values.length % width !== 0)
    throw new Error(
      `normalization of ${mean.length} means and ${std.length} deviations does not fit ${values.length} values`,
    );
  if (at + values.length > out.length) throw new Error('normalizedValues: the output is too short');
  // fround: the difference rounded to float32 before the division, as the tensor ops do.
  const one = (v: number, j: number) => {
    const z = Math.fround(v - mean[j]) / std[j];
    return impute && Number.isNaN(z) ? 0 : z;
  };
  if (values instanceof Uint8Array && values.length >= 256 * width) {
    const table = new Float32Array(256 * width);
    for (let j = 0; j < width; j++) for (let b = 0; b < 256; b++) table[j * 256 + b] = one(b, j);
    if (width === 1) for (let i = 0; i < values.length; i++) out[at + i] = table[values[i]];
    else
      for (let i = 0; i < values.length; i += width)
        for (let j = 0; j < width; j++) out[at + i + j] = table[j * 256 + values[i + j]];
    return out;
  }
  for (let i = 0; i < values.length; i += width)
    for (let j = 0; j < width; j++) out[at + i + j] = one(values[i + j], j);
  return out;
}

/**
 * (x - mean) / std along the last axis; mean and std of length 1 apply to every value. With
 * `imputation: 'mean'`, NaN inputs (missing values) come out as 0, the normalized train mean.
 */
export function normalizeInputs(x: tf.Tensor, norm: Normalization): tf.Tensor {
  return tf.tidy(() => {
    const z = tf.div(tf.sub(x, tf.tensor1d(norm.inputMean)), tf.tensor1d(norm.inputStd));
    // Missing values (NaN) become the train mean, which is 0 once normalized.
    return norm.imputation === 'mean' ? tf.where(tf.isNaN(z), tf.zerosLike(z), z) : z;
  });
}

function standardizeTargets(y: tf.Tensor2D, norm: Normalization): tf.Tensor2D {
  if (!norm.targetMean || !norm.targetStd) return y;
  return tf.tidy(() =>
    tf.div(tf.sub(y, tf.tensor1d(norm.targetMean!)), tf.tensor1d(norm.targetStd!)),
  ) as tf.Tensor2D;
}

/** Model outputs (standardized targets) back to the targets' own units. */
export function denormalizeTargets(y: tf.Tensor2D, norm: Normalization): tf.Tensor2D {
  if (!norm.targetMean || !norm.targetStd) return y;
  return tf.tidy(() =>
    tf.add(tf.mul(y, tf.tensor1d(norm.targetStd!)), tf.tensor1d(norm.targetMean!)),
  ) as tf.Tensor2D;
}

/** Huber's threshold, in standardized target units (a std). */
export const HUBER_DELTA = 1;

/**
 * The training loss per sample for the task: categorical cross-entropy of softmax outputs for
 * classification, squared error (or Huber) summed over the targets for regression.
 */
export function lossPerSample(
  data: Pick<DataSpec, 'task' | 'loss'>,
  outputs: tf.Tensor2D,
  labels: tf.Tensor2D,
): tf.Tensor1D {
  if (data.task.kind === 'classification') return crossEntropyPerSample(outputs, labels);
  return tf.tidy(() => {
    const err = tf.sub(outputs, labels);
    if (data.loss === 'huber') {
      const a = tf.abs(err);
      const quad = tf.minimum(a, HUBER_DELTA);
      return tf.sum(tf.add(tf.mul(0.5, tf.square(quad)), tf.mul(HUBER_DELTA, tf.sub(a, quad))), 1);
    }
    return tf.sum(tf.square(err), 1);
  }) as tf.Tensor1D;
}

/**
 * Where crossEntropyPerSample clips probabilities. The fused training loss on webgpu
 * (shared/src/training/fused.ts) clips at the same bounds, so both paths train on one loss.
 */
export const PROB_CLIP = { min: 1e-7, max: 1 } as const;

/**
 * Categorical cross-entropy of softmax outputs against one-hot labels, per sample. The
 * probabilities are clipped so a confident wrong answer costs log(1e-7), not Infinity.
 */
export function crossEntropyPerSample(probs: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(
    tf.sum(tf.mul(labels, tf.log(tf.clipByValue(probs, PROB_CLIP.min, PROB_CLIP.max))), 1),
  ) as tf.Tensor1D;
}

export interface EvalResult {
  loss: number;
  /** Classification only. */
  accuracy: number | null;
  /** Regression only, in the targets' own units (averaged over targets for R²). */
  r2: number | null;
  mae: number | null;
  rmse: number | null;
}

/** A tensor's values; the tensor itself is freed (a tidy's result outlives the tidy). */
function readAndDispose(t: tf.Tensor): Float32Array | Int32Array | Uint8Array {
  const values = t.dataSync();
  t.dispose();
  return values;
}

export interface EvaluateOptions {
  /** Rows per forward pass: bounds memory, and how long one pass holds the thread. */
  batchSize?: number;
  /**
   * Awaited between batches. A server passes a macrotask yield (setImmediate) so its event loop
   * answers requests during an evaluation: a CNN's forward pass over 10k rows on wasm takes
   * seconds, long enough for keep-alive sockets to time out and polls to meet ECONNRESET.
   */
  between?: () => Promise<void>;
}

/** A test set cut into batches of rows, once (an evaluator keeps them between versions). */
export interface Batches {
  x: tf.Tensor[];
  y: tf.Tensor2D[];
  rows: number;
}

/**
 * Cuts `x` and `y` into batches of `batchSize` rows. The values are read out once and each batch
 * made from its rows: wasm's Slice kernel (tfjs-backend-wasm 4.22) copies its whole input out of
 * the wasm heap on every call, so slicing 200-row batches off Fashion-MNIST's 10k test rows
 * copied 31 MB a batch, about 45 ms each, ten times the forward pass they fed.
 */
export function toBatches(x: tf.Tensor, y: tf.Tensor2D, batchSize: number): Batches {
  const n = x.shape[0];
  const xs = x.dataSync();
  const ys = y.dataSync();
  const rowX = xs.length / Math.max(1, n);
  const rowY = y.shape[1];
  const batches: Batches = { x: [], y: [], rows: n };
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    batches.x.push(
      tf.tensor(xs.subarray(start * rowX, (start + size) * rowX), [size, ...x.shape.slice(1)], x.dtype),
    );
    batches.y.push(tf.tensor2d(ys.subarray(start * rowY, (start + size) * rowY), [size, rowY], y.dtype));
  }
  return batches;
}

export function disposeBatches(batches: Batches): void {
  tf.dispose([...batches.x, ...batches.y]);
}

/**
 * Test-set metrics for the task, in batches to bound memory: loss (the training loss) and
 * accuracy for classification; loss, R², MAE and RMSE (in target units) for regression.
 */
export async function evaluate(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor2D,
  data: Pick<DataSpec, 'task' | 'loss' | 'normalization'>,
  options: EvaluateOptions = {},
): Promise<EvalResult> {
  const batches = toBatches(x, y, options.batchSize ?? 1000);
  try {
    return await evaluateBatches(model, batches, data, options.between);
  } finally {
    disposeBatches(batches);
  }
}

/** `evaluate` over a test set already cut into batches (toBatches). */
export async function evaluateBatches(
  model: tf.LayersModel,
  batches: Batches,
  data: Pick<DataSpec, 'task' | 'loss' | 'normalization'>,
  between?: () => Promise<void>,
): Promise<EvalResult> {
  const n = batches.rows;
  const width = batches.y[0]?.shape[1] ?? 1;
  let lossSum = 0;
  let correct = 0;
  let absSum = 0;
  const sq = new Float64Array(width);
  const sum = new Float64Array(width);
  const sumSq = new Float64Array(width);
  for (let b = 0; b < batches.x.length; b++) {
    if (b > 0 && between) await between();
    const xb = batches.x[b];
    const yb = batches.y[b];
    // One pass over the batch: predict's own default cuts it into batches of 32, each a slice
    // and a graph run, which made a 10k-row evaluation of the demo MLP several times slower.
    const p = model.predict(xb, { batchSize: xb.shape[0] }) as tf.Tensor2D;
    const l = readAndDispose(tf.tidy(() => tf.sum(lossPerSample(data, p, yb))))[0];
    let c = 0;
    let pred: ArrayLike<number> | null = null;
    let truth: ArrayLike<number> | null = null;
    if (data.task.kind === 'classification') {
      c = readAndDispose(tf.tidy(() => tf.equal(tf.argMax(p, 1), tf.argMax(yb, 1)).sum()))[0];
    } else {
      pred = readAndDispose(tf.tidy(() => denormalizeTargets(p, data.normalization)));
      truth = readAndDispose(tf.tidy(() => denormalizeTargets(yb, data.normalization)));
    }
    p.dispose();
    lossSum += l;
    correct += c;
    if (pred && truth) {
      for (let i = 0; i < pred.length; i++) {
        const k = i % width;
        const e = pred[i] - truth[i];
        absSum += Math.abs(e);
        sq[k] += e * e;
        sum[k] += truth[i];
        sumSq[k] += truth[i] * truth[i];
      }
    }
  }
  if (data.task.kind === 'classification')
    return { loss: lossSum / n, accuracy: correct / n, r2: null, mae: null, rmse: null };
  let r2 = 0;
  let sqAll = 0;
  for (let k = 0; k < width; k++) {
    const total = sumSq[k] - (sum[k] * sum[k]) / n;
    r2 += total > 0 ? 1 - sq[k] / total : 0;
    sqAll += sq[k];
  }
  return {
    loss: lossSum / n,
    accuracy: null,
    r2: r2 / width,
    mae: absSum / (n * width),
    rmse: Math.sqrt(sqAll / (n * width)),
  };
}
