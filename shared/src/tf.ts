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

/**
 * Shard bytes to model inputs and training labels, as the data spec says: inputs shaped
 * [n, ...inputShape] and normalized; classification labels one-hot; regression targets
 * standardized (predictions are mapped back with `denormalizeTargets`).
 */
export function shardToTensors(
  bytes: Uint8Array,
  data: Pick<DataSpec, 'task' | 'inputShape' | 'normalization'>,
): { x: tf.Tensor; y: tf.Tensor2D; count: number } {
  const shard = decodeShard(bytes);
  const size = data.inputShape.reduce((a, b) => a * b, 1);
  if (shard.sampleSize !== size)
    throw new Error(
      `shard holds ${shard.sampleSize} values a sample; the input shape ${JSON.stringify(data.inputShape)} needs ${size}`,
    );
  return tf.tidy(() => {
    const x = tf.tensor(
      normalizedValues(shard.x, data.normalization),
      [shard.count, ...data.inputShape],
      'float32',
    );
    const y =
      data.task.kind === 'classification'
        ? (tf
            .oneHot(tf.tensor1d(Int32Array.from(shard.y), 'int32'), data.task.numClasses)
            .toFloat() as tf.Tensor2D)
        : standardizeTargets(
            tf.tensor2d(shard.y as Float32Array, [shard.count, shard.labelWidth]),
            data.normalization,
          );
    return { x, y, count: shard.count };
  });
}

/**
 * normalizeInputs on plain values, into a new float32 array: the same float32 operations, so the
 * same values on every backend (bit for bit as wasm and cpu give them; WebGL's division need not
 * be exact), in one pass where the tensor path converted, subtracted and divided in three, each
 * a new model-sized allocation: a unit's shards cost a tab 30-40 ms that way, 7-8 ms this way.
 */
export function normalizedValues(values: ArrayLike<number>, norm: Normalization): Float32Array {
  const mean = Float32Array.from(norm.inputMean);
  const std = Float32Array.from(norm.inputStd);
  const impute = norm.imputation === 'mean';
  const out = new Float32Array(values.length);
  const width = mean.length;
  if (width !== std.length || width === 0 || values.length % width !== 0)
    throw new Error(
      `normalization of ${mean.length} means and ${std.length} deviations does not fit ${values.length} values`,
    );
  for (let i = 0; i < values.length; i += width) {
    for (let j = 0; j < width; j++) {
      // fround: the difference rounded to float32 before the division, as the tensor ops do.
      const z = Math.fround(values[i + j] - mean[j]) / std[j];
      out[i + j] = impute && Number.isNaN(z) ? 0 : z;
    }
  }
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
  const { batchSize = 1000, between } = options;
  const n = x.shape[0];
  const width = y.shape[1];
  let lossSum = 0;
  let correct = 0;
  let absSum = 0;
  const sq = new Float64Array(width);
  const sum = new Float64Array(width);
  const sumSq = new Float64Array(width);
  for (let start = 0; start < n; start += batchSize) {
    if (start > 0 && between) await between();
    const size = Math.min(batchSize, n - start);
    const begin = [start, ...x.shape.slice(1).map(() => 0)];
    const extent = [size, ...x.shape.slice(1).map(() => -1)];
    const xb = x.slice(begin, extent);
    const yb = y.slice([start, 0], [size, -1]);
    const p = model.predict(xb) as tf.Tensor2D;
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
    tf.dispose([xb, yb, p]);
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
