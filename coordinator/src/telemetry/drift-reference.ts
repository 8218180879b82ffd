/**
 * The training data's side of drift detection, from the dataset version's recorded statistics:
 * the class mix of its training split, and the mean and spread of its inputs after the
 * version's normalization (what the inference SDK feeds models and reports). Versions recorded
 * before datasets kept statistics fall back to reading their test shard.
 */
import { decodeShard, type Normalization } from '@gridtab/shared';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord } from '../storage/store.ts';
import type { DriftReference } from './alert-rules.ts';

const at = (values: number[], i: number) => values[values.length === 1 ? 0 : i];

/** Reference from raw inputs and class labels (the fallback, and what tests build by hand). */
export function referenceOf(
  x: Uint8Array | Float32Array,
  labels: ArrayLike<number>,
  numClasses: number,
  norm: Normalization,
  sampleSize = x.length / Math.max(1, labels.length),
): DriftReference {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]] = (counts[labels[i]] ?? 0) + 1;
  let sum = 0;
  let sumSq = 0;
  const width = norm.inputMean.length === 1 ? 1 : sampleSize;
  for (let i = 0; i < x.length; i++) {
    const k = width === 1 ? 0 : i % width;
    const v = (x[i] - at(norm.inputMean, k)) / at(norm.inputStd, k);
    sum += v;
    sumSq += v * v;
  }
  const n = x.length || 1;
  const mean = sum / n;
  return {
    classMix: counts.map((c) => c / (labels.length || 1)),
    inputMean: mean,
    inputStd: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
  };
}

/** Reference from the version's statistics (per feature or channel), no shard read. */
export function referenceFromStats(dataset: DatasetRecord): DriftReference | null {
  const { features, classCounts } = dataset.stats;
  if (features.length === 0) return null;
  const norm = dataset.normalization;
  let mean = 0;
  let second = 0;
  features.forEach((f, i) => {
    const m = (f.mean - at(norm.inputMean, i)) / at(norm.inputStd, i);
    const s = f.std / at(norm.inputStd, i);
    mean += m;
    second += s * s + m * m;
  });
  mean /= features.length;
  second /= features.length;
  const names = dataset.schema.classNames ?? [];
  const train = classCounts?.train ?? {};
  const total = Object.values(train).reduce((a, b) => a + b, 0) || 1;
  return {
    classMix: names.map((c) => (train[c] ?? 0) / total),
    inputMean: mean,
    inputStd: Math.sqrt(Math.max(0, second - mean * mean)),
  };
}

export class DriftReferences {
  private readonly cache = new Map<string, Promise<DriftReference | null>>();

  constructor(private readonly blobs: BlobStore) {}

  get(dataset: DatasetRecord): Promise<DriftReference | null> {
    let ref = this.cache.get(dataset.id);
    if (!ref) {
      const fromStats = referenceFromStats(dataset);
      ref = fromStats
        ? Promise.resolve(fromStats)
        : this.blobs.get(dataset.testHashes[0]).then((bytes) => {
            if (!bytes) return null;
            const shard = decodeShard(bytes);
            const t = dataset.schema.task;
            return referenceOf(
              shard.x,
              t.kind === 'classification' ? shard.y : [],
              t.kind === 'classification' ? t.numClasses : 0,
              dataset.normalization,
              shard.sampleSize,
            );
          });
      this.cache.set(dataset.id, ref);
    }
    return ref;
  }
}
