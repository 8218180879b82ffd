import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobSpecSchema, MODEL_PRESETS, type WorkUnit } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../config.ts';
import { type BlobStore, FileBlobStore } from '../storage/blob-store.ts';
import { SqliteStore } from '../storage/sqlite-store.ts';
import type { Store, UpdateRecord, VersionRecord } from '../storage/store.ts';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';
import { Retention } from './retention.ts';

const at = '2026-01-01T00:00:00Z';
const blob = (seed: number, size = 1000) =>
  Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 256);

/** Every live row's blob is there: held updates and every version's weights. */
async function assertNothingDangles(store: Store, blobs: BlobStore, jobId: string) {
  for (const h of await store.usage.heldUpdateBlobs(jobId)) expect(await blobs.has(h)).toBe(true);
  for (const v of await store.listVersions(jobId)) expect(await blobs.has(v.hash)).toBe(true);
}

/** A job with versions 0..2 committed and updates in rounds 1..3 (round 3 open), each its own blob. */
async function seed(store: Store, blobs: BlobStore) {
  const spec = jobSpecSchema.parse({ name: 'r', model: MODEL_PRESETS['fashion-mlp'], dataset: 'd' });
  const version = async (round: number): Promise<VersionRecord> => ({
    id: `v${round}`,
    jobId: 'j',
    round,
    hash: await blobs.put(blob(100 + round)),
    parentId: round ? `v${round - 1}` : null,
    numSamples: 10,
    unitIds: [],
    metrics: { testAccuracy: null, testLoss: null },
    createdAt: at,
  });
  await store.createJob(
    { id: 'j', name: 'r', spec, status: 'running', round: 0, versionId: null, createdAt: at },
    await version(0),
  );
  await store.commitVersion(await version(1), 2, 'running');
  await store.commitVersion(await version(2), 3, 'running');
  const updates: UpdateRecord[] = [];
  for (const round of [1, 2, 3])
    for (const unit of ['a', 'b']) {
      const u: UpdateRecord = {
        id: `u${round}${unit}`,
        jobId: 'j',
        round,
        unitId: unit,
        contributorId: 'c',
        baseVersionId: `v${round - 1}`,
        numSamples: 10,
        loss: 1,
        blobHash: await blobs.put(blob(round * 10 + unit.charCodeAt(0))),
        createdAt: at,
      };
      await store.insertUpdate(u);
      updates.push(u);
    }
  return updates;
}

describe('retention', () => {
  const dirs: string[] = [];
  const open = async (dir: string) => ({
    store: new SqliteStore(join(dir, 'store.sqlite')),
    blobs: await FileBlobStore.open(join(dir, 'blobs')),
  });
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridtab-retention-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('after-commit frees committed rounds past the grace, keeps the open round, the rows and every version', async () => {
    const { store, blobs } = await open(fresh());
    const updates = await seed(store, blobs);
    const report = await new Retention({
      store,
      blobs,
      log: () => {},
      policy: 'after-commit',
      graceRounds: 1,
    }).collect();
    // Committed through round 2, grace 1: round 1's two updates go; rounds 2 and 3 (open) stay.
    expect(report).toEqual({ released: 2, versionsPruned: 0, blobsDeleted: 2, bytesFreed: 2000 });
    for (const u of updates) expect([u.id, await blobs.has(u.blobHash)]).toEqual([u.id, u.round > 1]);
    expect(await store.listUpdates('j', 1)).toHaveLength(2); // lineage keeps the rows
    await assertNothingDangles(store, blobs, 'j');
    await store.close();
  });

  it('keep deletes nothing; a blob another live row names is never deleted', async () => {
    const { store, blobs } = await open(fresh());
    const updates = await seed(store, blobs);
    const keep = await new Retention({
      store,
      blobs,
      log: () => {},
      policy: 'keep',
      graceRounds: 0,
    }).collect();
    expect(keep).toEqual({ released: 0, versionsPruned: 0, blobsDeleted: 0, bytesFreed: 0 });
    // An update of the open round with the same bytes as one of round 1 (content addressing).
    await store.insertUpdate({ ...updates[0]!, id: 'u3c', round: 3, unitId: 'c' });
    const r = await new Retention({
      store,
      blobs,
      log: () => {},
      policy: 'after-commit',
      graceRounds: 0,
    }).collect();
    expect(r).toMatchObject({ released: 4, blobsDeleted: 3 });
    expect(await blobs.has(updates[0]!.blobHash)).toBe(true);
    await assertNothingDangles(store, blobs, 'j');
    await store.close();
  });

  it('a crash after marking, or between a delete and its mark, leaves the blob or nothing naming it', async () => {
    const dir = fresh();
    let { store, blobs } = await open(dir);
    const updates = await seed(store, blobs);
    const policy = { log: () => {}, policy: 'after-commit' as const, graceRounds: 0 };
    // Crash 1: the mark committed, the sweep never ran.
    expect(await new Retention({ store, blobs, ...policy }).mark()).toBe(4);
    await store.close();
    ({ store, blobs } = await open(dir));
    await assertNothingDangles(store, blobs, 'j');
    // Crash 2: the first delete happens, then the process dies before marking it collected.
    let deletes = 0;
    const crashing: BlobStore = Object.assign(Object.create(blobs), {
      delete: async (hash: string) => {
        await blobs.delete(hash);
        if (++deletes === 1) throw new Error('crash');
        return true;
      },
    });
    await expect(new Retention({ store, blobs: crashing, ...policy }).collect()).rejects.toThrow('crash');
    await store.close();
    ({ store, blobs } = await open(dir));
    await assertNothingDangles(store, blobs, 'j');
    // The next collection finishes the job: the three blobs left, and the rows all collected.
    const r = await new Retention({ store, blobs, ...policy }).collect();
    expect(r).toEqual({ released: 0, versionsPruned: 0, blobsDeleted: 3, bytesFreed: 3000 });
    expect(await store.usage.releasedBlobs(10)).toEqual([]);
    for (const u of updates) expect(await blobs.has(u.blobHash)).toBe(u.round === 3);
    await assertNothingDangles(store, blobs, 'j');
    await store.close();
  });
});

describe('retention in a running coordinator', () => {
  let co: TestCoordinator;
  afterEach(async () => co?.destroy());

  const submit = (unit: WorkUnit, who: string, k: number) => {
    const values = new Float32Array(101_770);
    values[k] = 1e-3; // distinct bytes per update, so each has its own blob
    const payload = new Uint8Array(values.buffer);
    return co.scheduler.submit(who, updateMetaFor(unit, payload), payload);
  };

  it('frees committed updates, never the open round nor the version an alias points at; storage drops', async () => {
    const usage = { ...configFromEnv({}).usage, retainGraceRounds: 0, gcIntervalMs: 1e9 };
    co = await startTestCoordinator({ tickMs: 1e9, usage });
    const job = await addJob(co, {
      rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 },
    });
    let k = 0;
    for (let round = 0; round < 2; round++) {
      for (const who of ['a', 'b']) await submit((await co.scheduler.requestUnit(who)).unit!, who, k++);
      await co.scheduler.idle();
    }
    const open = (await co.scheduler.requestUnit('a')).unit!;
    await submit(open, 'a', k++);
    const [model] = await co.registry.listModels();
    const versions = await co.store.listVersions(job.id);
    await co.registry.moveAlias(model!.name, 'production', { versionId: versions[1]!.id });
    const usageOf = async () =>
      (await (await fetch(`${co.url}/api/jobs/${job.id}/usage`)).json()).storageBytes;
    const before = await usageOf();
    const report = await co.usage.retention.collect();
    expect(report).toMatchObject({ released: 4, blobsDeleted: 4, bytesFreed: 4 * 101_770 * 4 });
    const [openUpdate] = await co.store.listUpdates(job.id, 3);
    expect(await co.blobs.has(openUpdate!.blobHash)).toBe(true);
    for (const v of versions) expect(await co.blobs.has(v.hash)).toBe(true);
    expect(await usageOf()).toBe(before - 4 * 101_770 * 4);
    const metrics = await (await fetch(`${co.url}/metrics`)).text();
    expect(metrics).toContain(`gridtab_retention_bytes_freed_total ${4 * 101_770 * 4}`);
  });
});
