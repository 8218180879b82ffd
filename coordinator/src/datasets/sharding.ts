/**
 * Splits a labelled u8 image set (IDX files, Fashion-MNIST) into fixed-size, content-addressed
 * shards and records it as a dataset version. Shard bytes are deterministic for the same input,
 * so re-importing yields the same hashes and a returning tab's IndexedDB cache stays valid.
 */
import { encodeShard, imageShard, PIXEL_NORMALIZATION } from '@gridtab/shared';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord } from '../storage/store.ts';
import { versionHash } from './data-spec.ts';
import type { ImageDataset, LabeledImages } from './fashion-mnist.ts';

export function sliceImages(set: LabeledImages, start: number, end: number): LabeledImages {
  const px = set.rows * set.cols;
  return {
    count: end - start,
    rows: set.rows,
    cols: set.cols,
    pixels: set.pixels.subarray(start * px, end * px),
    labels: set.labels.subarray(start, end),
  };
}

function pixelStats(sets: LabeledImages[]) {
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  let min = 255;
  let max = 0;
  for (const s of sets)
    for (const p of s.pixels) {
      n++;
      sum += p;
      sumSq += p * p;
      if (p < min) min = p;
      if (p > max) max = p;
    }
  const mean = sum / Math.max(1, n);
  return {
    name: 'channel 0',
    mean,
    std: Math.sqrt(Math.max(0, sumSq / Math.max(1, n) - mean * mean)),
    min,
    max,
    missing: 0,
  };
}

function classCounts(set: LabeledImages, names: string[]): Record<string, number> {
  const counts = Object.fromEntries(names.map((c) => [c, 0]));
  for (const l of set.labels) counts[names[l]]++;
  return counts;
}

/** Records an image set as version `version` of dataset `name` (id `name@version`). */
export async function importImageDataset(
  blobs: BlobStore,
  name: string,
  version: number,
  data: ImageDataset,
  shardSize: number,
  now: string,
  classNames?: string[],
): Promise<DatasetRecord> {
  const shardHashes: string[] = [];
  let bytes = 0;
  const put = async (set: LabeledImages) => {
    const shard = encodeShard(imageShard(set));
    bytes += shard.byteLength;
    return blobs.put(shard);
  };
  for (let start = 0; start < data.train.count; start += shardSize) {
    shardHashes.push(
      await put(sliceImages(data.train, start, Math.min(start + shardSize, data.train.count))),
    );
  }
  const testHashes = [await put(data.test)];
  let top = 0;
  for (const l of data.train.labels) if (l > top) top = l;
  const names = classNames ?? Array.from({ length: top + 1 }, (_, i) => String(i));
  const schema: DatasetRecord['schema'] = {
    task: { kind: 'classification', numClasses: names.length },
    inputShape: [data.train.rows, data.train.cols, 1],
    inputDtype: 'uint8',
    featureNames: null,
    categorical: [],
    labelColumn: null,
    classNames: names,
    targetNames: null,
  };
  const splits: DatasetRecord['splits'] = {
    method: 'file',
    seed: null,
    testFraction: null,
    train: data.train.count,
    test: data.test.count,
  };
  return {
    id: `${name}@${version}`,
    name,
    version,
    hash: await versionHash({ schema, normalization: PIXEL_NORMALIZATION, splits, shardHashes, testHashes }),
    schema,
    stats: {
      features: [pixelStats([data.train, data.test])],
      targets: null,
      classCounts: { train: classCounts(data.train, names), test: classCounts(data.test, names) },
      duplicates: 0,
      droppedRows: 0,
      warnings: [],
    },
    splits,
    normalization: PIXEL_NORMALIZATION,
    source: null,
    parent: null,
    numTrain: data.train.count,
    numTest: data.test.count,
    shardSize,
    shardHashes,
    testHashes,
    bytes,
    createdAt: now,
  };
}
