/**
 * Splits a labelled image set into fixed-size, content-addressed shards and registers the
 * dataset. Shard bytes are deterministic for the same input, so re-importing yields the same
 * hashes and a returning tab's IndexedDB cache stays valid.
 */
import { encodeShard } from '@gridtab/shared';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord } from '../storage/store.ts';
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

export async function importImageDataset(
  blobs: BlobStore,
  id: string,
  name: string,
  data: ImageDataset,
  shardSize: number,
  now: string,
): Promise<DatasetRecord> {
  const shardHashes: string[] = [];
  for (let start = 0; start < data.train.count; start += shardSize) {
    const end = Math.min(start + shardSize, data.train.count);
    shardHashes.push(await blobs.put(encodeShard(sliceImages(data.train, start, end))));
  }
  const testHash = await blobs.put(encodeShard(data.test));
  const numClasses = Math.max(...data.train.labels) + 1;
  return {
    id,
    name,
    inputShape: [data.train.rows, data.train.cols, 1],
    numClasses,
    numTrain: data.train.count,
    numTest: data.test.count,
    shardSize,
    shardHashes,
    testHash,
    createdAt: now,
  };
}
