/**
 * Runs the shared importer cases (importer.case.ts) against every format through importFile:
 * good files give the expected schema and counts, the same content twice the same hashes, an
 * append of 1% shares most shards; bad files give the right code naming the place, and every
 * blob they wrote went through the store the registry watches.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeShard, GridTabError } from '@gridtab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlobStore, FileBlobStore } from '../../storage/blob-store.ts';
import { binaryBadCases, binaryGoodCases } from './binary.case.ts';
import { badCases, goodCases, SHARD_SIZE } from './importer.case.ts';
import { importFile } from './index.ts';

let dir: string;
let blobDir: string;
let blobs: FileBlobStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridtab-import-'));
  blobDir = join(dir, 'blobs');
  blobs = await FileBlobStore.open(blobDir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The blob store the registry hands an importer: it records every put. */
function recording(store: BlobStore): BlobStore & { puts: Set<string> } {
  const puts = new Set<string>();
  return {
    puts,
    put: async (b) => {
      const h = await store.put(b);
      puts.add(h);
      return h;
    },
    get: (h) => store.get(h),
    has: (h) => store.has(h),
    delete: (h) => store.delete(h),
    size: (h) => store.size(h),
    list: () => store.list(),
  };
}

async function blobNames(): Promise<Set<string>> {
  const out = new Set<string>();
  for (const d of await readdir(blobDir)) {
    if (d === 'tmp') continue;
    for (const f of await readdir(join(blobDir, d))) out.add(f);
  }
  return out;
}

describe.each([...goodCases(), ...binaryGoodCases()])('$name', (c) => {
  it('gives the expected schema, task, counts and statistics, with shards that decode', async () => {
    const file = await c.write(dir);
    const store = recording(blobs);
    const v = await importFile({ ...file, format: c.format }, { blobs: store });
    expect(v.schema.task).toEqual(c.task);
    expect(v.schema.inputShape).toEqual(c.inputShape);
    expect(v.schema.inputDtype).toBe(c.inputDtype);
    expect(v.numTrain + v.numTest).toBe(c.rows);
    expect(v.splits.method).toBe(c.splitMethod);
    expect(v.splits.train).toBe(v.numTrain);
    expect(v.numTest).toBeGreaterThan(0);
    if (c.featureNames) expect(v.schema.featureNames).toEqual(c.featureNames);
    if (c.classNames) expect(v.schema.classNames).toEqual(c.classNames);
    if (c.droppedRows !== undefined) expect(v.stats.droppedRows).toBe(c.droppedRows);
    if (c.task.kind === 'classification') {
      const counts = v.stats.classCounts!;
      const total = [...Object.values(counts.train), ...Object.values(counts.test)].reduce(
        (a, b) => a + b,
        0,
      );
      expect(total).toBe(c.rows);
      expect(Object.keys(counts.train)).toHaveLength(c.task.numClasses);
    } else {
      expect(v.stats.targets).toHaveLength(c.task.numTargets);
      expect(v.normalization.targetStd!.every((s) => s > 0)).toBe(true);
    }
    for (const f of v.stats.features) {
      expect(Number.isFinite(f.mean) && f.min <= f.mean && f.mean <= f.max).toBe(true);
    }
    expect(v.normalization.inputStd.every((s) => s > 0)).toBe(true);
    // Every shard is in the store, went through the recorded puts, and decodes to its rows.
    let train = 0;
    for (const h of v.shardHashes) {
      expect(store.puts.has(h)).toBe(true);
      const s = decodeShard((await blobs.get(h))!);
      expect(s.sampleSize).toBe(c.inputShape.reduce((a, b) => a * b, 1));
      train += s.count;
    }
    expect(train).toBe(v.numTrain);
    expect(v.shardHashes.length).toBeGreaterThan(v.numTrain / (4 * SHARD_SIZE));
  });

  it('gives the same hashes for the same content, and shares most shards after a 1% append', async () => {
    const a = await importFile({ ...(await c.write(dir)), format: c.format }, { blobs });
    const b = await importFile({ ...(await c.write(dir)), format: c.format }, { blobs });
    expect(b.hash).toBe(a.hash);
    expect(b.shardHashes).toEqual(a.shardHashes);
    expect(b.testHashes).toEqual(a.testHashes);
    const grown = await importFile({ ...(await c.write(dir, true)), format: c.format }, { blobs });
    expect(grown.hash).not.toBe(a.hash);
    const before = new Set(a.shardHashes);
    const shared = grown.shardHashes.filter((h) => before.has(h)).length;
    // Most shards survive; content-defined cuts keep the change to the shards near the new rows.
    expect(shared).toBeGreaterThanOrEqual(Math.floor(a.shardHashes.length * 0.7));
  });
});

describe.each([...badCases(), ...binaryBadCases()])('$name', (c) => {
  it(`is refused as ${c.code}, naming the place, with every blob it wrote recorded`, async () => {
    const file = await c.write(dir);
    const before = await blobNames();
    const store = recording(blobs);
    const err = await importFile({ ...file, format: c.format }, { blobs: store }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GridTabError);
    expect((err as GridTabError).code).toBe(c.code);
    expect((err as GridTabError).message).toMatch(c.place);
    const added = [...(await blobNames())].filter((h) => !before.has(h));
    expect(added.every((h) => store.puts.has(h))).toBe(true);
  });
});
