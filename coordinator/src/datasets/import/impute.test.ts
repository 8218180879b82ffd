/**
 * The impute policy leaves missing values to readers: shards hold NaN where the file had no
 * value, the normalization says `imputation: 'mean'`, and shardToTensors (what training and
 * the evaluator read) turns them into 0, the normalized train mean. Because no mean is written
 * into shards, a 1% edit changes only the shards around the edited rows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeShard } from '@gridtab/shared';
import { shardToTensors } from '@gridtab/shared/tf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../storage/blob-store.ts';
import { dataSpecOf } from '../data-spec.ts';
import { put } from './importer.case.ts';
import { importFile } from './index.ts';
import { CAR_COLUMNS, cars, type Row, toDelimited } from './test-data.ts';

let dir: string;
let blobs: FileBlobStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridtab-impute-'));
  blobs = await FileBlobStore.open(join(dir, 'blobs'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** 4,000 cars rows (some without Horsepower); rows in `edit` get +1 on every number. */
function carsCsv(edit?: [number, number]): string {
  const base = cars();
  const rows: Row[] = [];
  for (let i = 0; i < 4000; i++) {
    const r = base[i % base.length];
    const bump = edit && i >= edit[0] && i < edit[1] ? 1 : 0;
    const row: Row = {};
    for (const c of CAR_COLUMNS) {
      const v = r[c];
      row[c] = typeof v === 'number' ? v + (i % 97) / 100 + bump : v;
    }
    rows.push(row);
  }
  return toDelimited(rows, CAR_COLUMNS);
}

const options = { missing: 'impute' as const, shardSize: 64 };

describe('the impute policy', () => {
  it('writes NaN for a missing value, records mean imputation, and reads it as 0 once normalized', async () => {
    const v = await importFile(
      { ...(await put(dir, 'cars.csv', carsCsv(), options)), format: 'csv' },
      { blobs },
    );
    expect(v.normalization.imputation).toBe('mean');
    const hp = v.schema.featureNames!.indexOf('Horsepower');
    expect(v.stats.features[hp].missing).toBeGreaterThan(0);
    expect(Number.isFinite(v.stats.features[hp].mean)).toBe(true);
    const spec = dataSpecOf({ ...v, id: 'cars@1', name: 'cars', version: 1 } as never);
    let nans = 0;
    for (const h of [...v.shardHashes, ...v.testHashes]) {
      const bytes = (await blobs.get(h))!;
      const shard = decodeShard(bytes);
      const width = shard.sampleSize;
      const x = shard.x as Float32Array;
      const t = shardToTensors(bytes, spec);
      const z = t.x.dataSync();
      for (let i = 0; i < x.length; i++) {
        if (Number.isNaN(x[i])) {
          nans++;
          expect(i % width).toBe(hp);
          expect(z[i]).toBe(0);
        }
        expect(Number.isFinite(z[i])).toBe(true);
      }
      t.x.dispose();
      t.y.dispose();
    }
    // Every missing value the stats count (train and test rows) is a NaN in some shard.
    expect(nans).toBe(v.stats.features[hp].missing);
  });

  it('shares most shards after a 1% edit, as the drop policy does', async () => {
    const a = await importFile(
      { ...(await put(dir, 'a.csv', carsCsv(), options)), format: 'csv' },
      { blobs },
    );
    const b = await importFile(
      { ...(await put(dir, 'b.csv', carsCsv([2000, 2040]), options)), format: 'csv' },
      { blobs },
    );
    expect(b.hash).not.toBe(a.hash);
    // The edit moved the train mean, which a mean written into shards would have carried everywhere.
    expect(b.normalization.inputMean).not.toEqual(a.normalization.inputMean);
    const before = new Set([...a.shardHashes, ...a.testHashes]);
    const all = [...b.shardHashes, ...b.testHashes];
    const shared = all.filter((h) => before.has(h)).length;
    expect(shared).toBeGreaterThanOrEqual(Math.floor(all.length * 0.8));
  });
});
