/**
 * Model helpers both sides need, written against TF.js: build a model from its layers spec,
 * and move its weights to and from one flat Float32Array (the order of `model.weights`, each
 * tensor row-major). Versions, updates and the wire all use this flat layout.
 */
import * as tf from '@tensorflow/tfjs';
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

/** Shard bytes to model inputs: pixels scaled to [0, 1] as [n, rows, cols, 1], labels one-hot. */
export function shardToTensors(
  bytes: Uint8Array,
  numClasses: number,
): { x: tf.Tensor4D; y: tf.Tensor2D; count: number } {
  const shard = decodeShard(bytes);
  return tf.tidy(() => {
    const x = tf
      .tensor4d(Float32Array.from(shard.pixels), [shard.count, shard.rows, shard.cols, 1])
      .div(255) as tf.Tensor4D;
    const y = tf
      .oneHot(tf.tensor1d(Int32Array.from(shard.labels), 'int32'), numClasses)
      .toFloat() as tf.Tensor2D;
    return { x, y, count: shard.count };
  });
}

/**
 * Where crossEntropyPerSample clips probabilities. The fused training loss on webgpu
 * (client/src/runtime/fused.ts) clips at the same bounds, so both paths train on one loss.
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

/** Test-set loss (categorical cross-entropy) and accuracy, in batches to bound memory. */
export function evaluate(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  y: tf.Tensor2D,
  batchSize = 1000,
): { loss: number; accuracy: number } {
  const n = x.shape[0];
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const [l, c] = tf.tidy(() => {
      const xb = x.slice([start, 0, 0, 0], [size, -1, -1, -1]);
      const yb = y.slice([start, 0], [size, -1]);
      const p = model.predict(xb) as tf.Tensor2D;
      const loss = tf.sum(crossEntropyPerSample(p, yb));
      const hits = tf.equal(tf.argMax(p, 1), tf.argMax(yb, 1)).sum();
      return [loss.dataSync()[0], hits.dataSync()[0]];
    });
    lossSum += l;
    correct += c;
  }
  return { loss: lossSum / n, accuracy: correct / n };
}
