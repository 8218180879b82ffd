/**
 * The training data's side of drift detection: the class mix and the input mean and spread of
 * a dataset's held-out test shard, scaled to [0, 1] as the inference SDK feeds models. The
 * test set is drawn from the same distribution as the training shards and is one blob, so it
 * stands for the training data without reading every shard. Cached per test shard.
 */
import { decodeShard } from '@gridtab/shared';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord } from '../storage/store.ts';
import type { DriftReference } from './alert-rules.ts';

export function referenceOf(pixels: Uint8Array, labels: Uint8Array, numClasses: number): DriftReference {
  const counts = new Array<number>(numClasses).fill(0);
  for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
  let sum = 0;
  let sumSq = 0;
  for (const p of pixels) {
    const v = p / 255;
    sum += v;
    sumSq += v * v;
  }
  const n = pixels.length || 1;
  const mean = sum / n;
  return {
    classMix: counts.map((c) => c / (labels.length || 1)),
    inputMean: mean,
    inputStd: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
  };
}

export class DriftReferences {
  private readonly cache = new Map<string, Promise<DriftReference | null>>();

  constructor(private readonly blobs: BlobStore) {}

  get(dataset: DatasetRecord): Promise<DriftReference | null> {
    let ref = this.cache.get(dataset.testHash);
    if (!ref) {
      ref = this.blobs.get(dataset.testHash).then((bytes) => {
        if (!bytes) return null;
        const shard = decodeShard(bytes);
        return referenceOf(shard.pixels, shard.labels, dataset.numClasses);
      });
      this.cache.set(dataset.testHash, ref);
    }
    return ref;
  }
}
