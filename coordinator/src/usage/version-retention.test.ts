import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type JobSpecInput,
  jobSpecSchema,
  MODEL_PRESETS,
  sweepSpecSchema,
  type WorkUnit,
} from '@gridtab/shared';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../config.ts';
import { type BlobStore, FileBlobStore } from '../storage/blob-store.ts';
import { PgStore } from '../storage/postgres/pg-store.ts';
import { createTestDatabase, type TestDatabase } from '../storage/postgres/test-db.ts';
import { SqliteStore } from '../storage/sqlite-store.ts';
import type { Store, VersionRecord } from '../storage/store.ts';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';
import { Retention } from './retention.ts';
import { usageConfigFromEnv } from './usage-config.ts';

const at = '2026-01-01T00:00:00Z';
const blob = (seed: number, size = 1000) =>
  Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 256);

/** Accuracy per round: round 2 is the job's best by accuracy, round 3 has the lowest loss. */
const ACCURACY = [0.1, 0.5, 0.9, 0.6, 0.7, 0.75, 0.8];
const LOSS = [2, 1.5, 1.2, 0.3, 0.9, 0.8, 0.7];

/** A job with versions v0..v6 committed (head v6), each with its own weights blob. */
async function seed(store: Store, blobs: BlobStore, strategy?: JobSpecInput['strategy']) {
  const spec = jobSpecSchema.parse({
    name: 'r',
    model: MODEL_PRESETS['fashion-mlp'],
    dataset: 'd',
    strategy,
  });
  const version = async (round: number): Promise<VersionRecord> => ({
    id: `v${round}`,
    jobId: 'j',
    round,
    hash: await blobs.put(blob(100 + round)),
    parentId: round ? `v${round - 1}` : null,
    numSamples: 10,
    unitIds: [],
    metrics: { testAccuracy: ACCURACY[round]!, testLoss: LOSS[round]! },
    createdAt: at,
  });
  await store.createJob(
    { id: 'j', name: 'r', spec, status: 'running', round: 0, versionId: null, createdAt: at },
    await version(0),
  );
  for (let r = 1; r <= 6; r++) await store.commitVersion(await version(r), r + 1, 'running');
}

const prunedIds = async (store: Store) =>
  (await store.listVersions('j')).filter((v) => v.pruned).map((v) => v.id);

/** Every version not marked pruned still has its weights. */
async function assertNothingDangles(store: Store, blobs: BlobStore) {
  for (const v of await store.listVersions('j'))
    if (!v.pruned) expect([v.id, await blobs.has(v.hash)]).toEqual([v.id, true]);
}

const retention = (store: Store, blobs: BlobStore, keepLast = 2) =>
  new Retention({ store, blobs, log: () => {}, policy: 'keep', graceRounds: 0, versions: { keepLast } });

type Open = (dir: string) => Promise<{ store: Store; blobs: BlobStore }>;

const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const db of dbs) await db.drop();
});

const STORES: [string, () => Promise<Open>][] = [
  [
    'sqlite',
    async () => async (dir) => ({
      store: new SqliteStore(join(dir, 'store.sqlite')),
      blobs: await FileBlobStore.open(join(dir, 'blobs')),
    }),
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase();
      dbs.push(db);
      return async (dir) => ({
        store: await PgStore.open(db.url),
        blobs: await FileBlobStore.open(join(dir, 'blobs')),
      });
    },
  ],
];

describe.each(STORES)('version pruning (%s)', (_, makeOpen) => {
  const dirs: string[] = [];
  let store: Store | undefined;
  const fresh = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridtab-prune-'));
    dirs.push(dir);
    const open = await makeOpen();
    const opened = await open(dir);
    store = opened.store;
    return { dir, open, ...opened };
  };
  afterEach(async () => {
    await store?.close().catch(() => {});
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('prunes what no rule keeps (last 2, head, its parent, origin, best); rows stay, marked pruned', async () => {
    const { store, blobs } = await fresh();
    await seed(store, blobs);
    const report = await retention(store, blobs).collect();
    // Kept: v6 head, v5 recent and the head's parent, v0 origin, v2 best accuracy.
    expect(report).toEqual({ released: 0, versionsPruned: 3, blobsDeleted: 3, bytesFreed: 3000 });
    expect(await prunedIds(store)).toEqual(['v1', 'v3', 'v4']);
    expect(await store.listVersions('j')).toHaveLength(7);
    for (const id of ['v1', 'v3', 'v4'])
      expect(await blobs.has((await store.getVersion(id))!.hash)).toBe(false);
    await assertNothingDangles(store, blobs);
    // A second run finds nothing more to do.
    expect(await retention(store, blobs).collect()).toMatchObject({ versionsPruned: 0, blobsDeleted: 0 });
  });

  it('never prunes an alias target, its canary or the version a rollback would restore', async () => {
    const { store, blobs } = await fresh();
    await seed(store, blobs);
    await store.registry.insertModel({ name: 'm', jobId: 'j', autoPromote: null, createdAt: at });
    const move = (versionId: string, canary: { versionId: string; fraction: number } | null) =>
      store.registry.moveAlias(
        { modelName: 'm', alias: 'production', versionId, canary, updatedAt: at },
        'admin',
      );
    await move('v1', null);
    await move('v3', { versionId: 'v4', fraction: 0.1 });
    // The store refuses to mark an aliased version whoever asks.
    expect(await store.versionRetention.prune('v3', at)).toBe(false);
    expect(await store.versionRetention.prune('v4', at)).toBe(false);
    const report = await retention(store, blobs).collect();
    expect(report.versionsPruned).toBe(0); // v1 rollback target, v3 alias, v4 canary
    await assertNothingDangles(store, blobs);
  });

  it('never prunes the base of an update still held (running round, unsettled spot-check) nor its parent', async () => {
    const { store, blobs } = await fresh();
    await seed(store, blobs);
    // An update of round 5 trained from v4 and not yet released: its check may still recompute from v4.
    await store.insertUpdate({
      id: 'u',
      jobId: 'j',
      round: 5,
      unitId: 'a',
      contributorId: 'c',
      baseVersionId: 'v4',
      numSamples: 10,
      loss: 1,
      blobHash: await blobs.put(blob(7)),
      createdAt: at,
    });
    await retention(store, blobs).collect();
    expect(await prunedIds(store)).toEqual(['v1']);
    await assertNothingDangles(store, blobs);
  });

  it("keeps a buffered job's last maxStaleness+1 versions (tabs may still train on them)", async () => {
    const { store, blobs } = await fresh();
    await seed(store, blobs, { name: 'buffered', maxStaleness: 3 });
    await retention(store, blobs, 1).collect();
    expect(await prunedIds(store)).toEqual(['v1']);
  });

  it("keeps a sweep trial's best version and its rung versions", async () => {
    const { store, blobs } = await fresh();
    await seed(store, blobs);
    const spec = sweepSpecSchema.parse({
      name: 's',
      base: { name: 'b', model: MODEL_PRESETS['fashion-mlp'], dataset: 'd', stopping: { maxRounds: 10 } },
      space: { 'hyperparameters.batchSize': { type: 'choice', values: [16, 32] } },
      method: { name: 'asha', rungs: [1], eta: 2 },
      budget: { maxTrials: 2 },
      metric: 'testLoss',
    });
    await store.sweeps.createSweep(
      { id: 's', name: 's', spec, status: 'completed', createdAt: at, endedAt: at },
      [
        {
          id: 't',
          sweepId: 's',
          index: 0,
          params: {},
          status: 'completed',
          jobId: 'j',
          rung: 1,
          error: null,
          repro: null,
          reruns: [],
          createdAt: at,
          endedAt: at,
        },
      ],
    );
    await retention(store, blobs).collect();
    // v1 is the rung-0 version (round 1), v3 the trial's best by loss.
    expect(await prunedIds(store)).toEqual(['v4']);
  });

  it('a pruned version with the same bytes as a held one leaves the blob to it', async () => {
    const { store, blobs } = await fresh();
    await seed(store, blobs);
    // v7 repeats v4's weights (a zero step) and becomes the head.
    const v4 = (await store.getVersion('v4'))!;
    await store.commitVersion({ ...v4, id: 'v7', round: 7, parentId: 'v6' }, 8, 'running');
    const report = await retention(store, blobs).collect();
    expect(await prunedIds(store)).toEqual(['v1', 'v3', 'v4', 'v5']);
    expect(report.blobsDeleted).toBe(3);
    expect(await blobs.has(v4.hash)).toBe(true);
    await assertNothingDangles(store, blobs);
  });

  it('a crash after the mark, or between a delete and its mark, leaves the blob or nothing live naming it', async () => {
    const first = await fresh();
    let { store: s, blobs } = first;
    await seed(s, blobs);
    // Crash 1: the prune committed, the sweep never ran.
    expect(await retention(s, blobs).prune()).toBe(3);
    await s.close();
    ({ store: s, blobs } = await first.open(first.dir));
    store = s;
    await assertNothingDangles(s, blobs);
    expect(await prunedIds(s)).toEqual(['v1', 'v3', 'v4']);
    // Crash 2: the first blob is deleted, then the process dies before marking its version collected.
    let deletes = 0;
    const crashing: BlobStore = Object.assign(Object.create(blobs), {
      delete: async (hash: string) => {
        await blobs.delete(hash);
        if (++deletes === 1) throw new Error('crash');
        return true;
      },
    });
    await expect(retention(s, crashing).collect()).rejects.toThrow('crash');
    await s.close();
    ({ store: s, blobs } = await first.open(first.dir));
    store = s;
    await assertNothingDangles(s, blobs);
    // The next collection finishes: the two blobs left, and every pruned row collected.
    expect(await retention(s, blobs).collect()).toEqual({
      released: 0,
      versionsPruned: 0,
      blobsDeleted: 2,
      bytesFreed: 2000,
    });
    expect(await s.versionRetention.released(10)).toEqual([]);
    for (const id of ['v1', 'v3', 'v4']) expect(await blobs.has((await s.getVersion(id))!.hash)).toBe(false);
    await assertNothingDangles(s, blobs);
  });

  it('an alias moved onto a pruned version before its sweep brings it back', async () => {
    const { store, blobs } = await fresh();
    await seed(store, blobs);
    expect(await retention(store, blobs).prune()).toBe(3);
    // The move raced the prune (its check ran first); the store now has an alias on v3.
    await store.registry.insertModel({ name: 'm', jobId: 'j', autoPromote: null, createdAt: at });
    await store.registry.moveAlias(
      { modelName: 'm', alias: 'production', versionId: 'v3', canary: null, updatedAt: at },
      'admin',
    );
    await retention(store, blobs).sweep();
    expect(await prunedIds(store)).toEqual(['v1', 'v4']);
    await assertNothingDangles(store, blobs);
  });
});

describe('GRIDTAB_VERSION_RETENTION', () => {
  it('is off by default and takes last:N with N >= 1', () => {
    expect(usageConfigFromEnv({}).versionRetention).toBeNull();
    expect(usageConfigFromEnv({ GRIDTAB_VERSION_RETENTION: 'off' }).versionRetention).toBeNull();
    expect(usageConfigFromEnv({ GRIDTAB_VERSION_RETENTION: 'last:5' }).versionRetention).toEqual({
      keepLast: 5,
    });
    for (const bad of ['last:0', 'last:-1', 'last:x', '5', 'keep'])
      expect(() => usageConfigFromEnv({ GRIDTAB_VERSION_RETENTION: bad })).toThrow(
        'GRIDTAB_VERSION_RETENTION',
      );
  });
});

describe('version pruning in a running coordinator', () => {
  let co: TestCoordinator;
  afterEach(async () => co?.destroy());

  // Each round's delta differs, so versions have distinct weight blobs.
  const submit = (unit: WorkUnit, who: string, step = 0) => {
    const payload = new Uint8Array(new Float32Array(101_770).fill(step * 1e-3).buffer);
    return co.scheduler.submit(who, updateMetaFor(unit, payload), payload);
  };

  it('the API shows pruned versions; their weights and an alias onto them get VERSION_PRUNED', async () => {
    const usage = {
      ...configFromEnv({}).usage,
      retainGraceRounds: 0,
      gcIntervalMs: 1e9,
      versionRetention: { keepLast: 1 },
    };
    co = await startTestCoordinator({ tickMs: 1e9, usage });
    const job = await addJob(co, {
      rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 },
    });
    for (let round = 0; round < 5; round++) {
      await submit((await co.scheduler.requestUnit('a')).unit!, 'a', round + 1);
      await co.scheduler.idle();
    }
    const report = await co.usage.retention.collect();
    const versions = await (await fetch(`${co.url}/api/jobs/${job.id}/versions`)).json();
    const pruned = versions.filter((v: { pruned?: boolean }) => v.pruned);
    // Six versions: head, its parent, origin and best (v1 or later) are kept, so one or two go.
    expect(pruned.length).toBe(report.versionsPruned);
    expect(pruned.length).toBeGreaterThan(0);
    const [model] = await co.registry.listModels();
    for (const v of versions) {
      const weights = await fetch(`${co.url}/api/models/${model!.name}/versions/${v.id}/weights.bin`);
      const body = weights.status === 200 ? null : (await weights.json()).error.code;
      expect([v.id, weights.status, body]).toEqual(
        v.pruned ? [v.id, 410, 'VERSION_PRUNED'] : [v.id, 200, null],
      );
    }
    await expect(
      co.registry.moveAlias(model!.name, 'production', { versionId: pruned[0].id }),
    ).rejects.toMatchObject({ code: 'VERSION_PRUNED' });
    // The raw content-addressed route tells a pruned version's weights from unknown ones.
    for (const v of versions) {
      const raw = await fetch(`${co.url}/models/weights/${v.hash}`);
      const body = raw.status === 200 ? null : (await raw.json()).error.code;
      expect([v.id, raw.status, body]).toEqual(v.pruned ? [v.id, 410, 'VERSION_PRUNED'] : [v.id, 200, null]);
    }
    const unknown = await fetch(`${co.url}/models/weights/${'0'.repeat(64)}`);
    expect([unknown.status, (await unknown.json()).error.code]).toEqual([404, 'NOT_FOUND']);
    const metrics = await (await fetch(`${co.url}/metrics`)).text();
    expect(metrics).toContain(`gridtab_retention_versions_pruned_total ${pruned.length}`);
  });
});
