/**
 * The shared Store suite: every Store implementation runs these cases (the embedded SQLite
 * store now, PostgreSQL when it lands), so both modes behave the same.
 */
import { jobSpecSchema, MODEL_PRESETS } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { leaseCases } from './lease-store.case.ts';
import { registryCases } from './registry-store.case.ts';
import { reputationCases } from './reputation-store.case.ts';
import { securityCases } from './security-store.case.ts';
import {
  type DatasetRecord,
  type JobRecord,
  StaleRoundError,
  type Store,
  type VersionRecord,
} from './store.ts';
import { sweepCases } from './sweep-store.case.ts';
import { usageCases } from './usage-store.case.ts';

const spec = jobSpecSchema.parse({ name: 'j', model: MODEL_PRESETS['fashion-mlp'], dataset: 'd' });
const job = (id: string): JobRecord => ({
  id,
  name: 'j',
  spec,
  status: 'running',
  round: 0,
  versionId: null,
  createdAt: '2026-01-01T00:00:00Z',
});
const version = (id: string, jobId: string, round: number, parentId: string | null): VersionRecord => ({
  id,
  jobId,
  round,
  hash: 'a'.repeat(64),
  parentId,
  numSamples: round * 10,
  unitIds: [`${jobId}.r${round}.u0`],
  metrics: { testAccuracy: round ? 0.5 : null, testLoss: round ? 1.2 : null },
  createdAt: '2026-01-01T00:00:00Z',
});

const datasetVersion = (name: string, version: number, shards: string[]): DatasetRecord => ({
  id: `${name}@${version}`,
  name,
  version,
  hash: `d${version}`.repeat(32).slice(0, 64),
  schema: {
    task: { kind: 'regression', numTargets: 1 },
    inputShape: [3],
    inputDtype: 'float32',
    featureNames: ['a', 'b', 'c'],
    categorical: [],
    labelColumn: 'y',
    classNames: null,
    targetNames: ['y'],
  },
  stats: { features: [], targets: null, classCounts: null, duplicates: 0, droppedRows: 0, warnings: [] },
  splits: { method: 'hash', seed: 1, testFraction: 0.2, train: 8, test: 2 },
  normalization: { inputMean: [0, 0, 0], inputStd: [1, 1, 1], targetMean: [0], targetStd: [1] },
  source: null,
  parent: version > 1 ? `${name}@${version - 1}` : null,
  numTrain: 8,
  numTest: 2,
  shardSize: 8,
  shardHashes: shards,
  testHashes: ['f'.repeat(64)],
  bytes: 100,
  createdAt: '2026-01-01T00:00:00Z',
});

type Open = () => Store | Promise<Store>;

export function storeSuite(name: string, open: Open, reopen?: Open) {
  describe(`Store: ${name}`, () => {
    it('creates a job with its initial version atomically', async () => {
      const store = await open();
      await store.createJob(job('j1'), version('v0', 'j1', 0, null));
      const saved = (await store.getJob('j1'))!;
      expect(saved.round).toBe(1);
      expect(saved.versionId).toBe('v0');
      expect(saved.spec).toEqual(spec);
      expect((await store.listVersions('j1')).map((v) => v.id)).toEqual(['v0']);
    });

    it('commits a version and moves the job in one step; a round has one version', async () => {
      const store = await open();
      await store.createJob(job('j2'), version('v0b', 'j2', 0, null));
      await store.commitVersion(version('v1', 'j2', 1, 'v0b'), 2, 'running');
      expect(await store.getJob('j2')).toMatchObject({ round: 2, versionId: 'v1', status: 'running' });
      expect(await store.getVersion('v1')).toMatchObject({ parentId: 'v0b', metrics: { testAccuracy: 0.5 } });
      await expect(store.commitVersion(version('v1-again', 'j2', 1, 'v0b'), 2, 'running')).rejects.toThrow();
      expect((await store.getJob('j2'))!.versionId).toBe('v1');
    });

    it("keeps a version's strategy state hash (DiLoCo's momentum), absent when there is none", async () => {
      const store = await open();
      await store.createJob(job('j6'), version('v0f', 'j6', 0, null));
      await store.commitVersion(
        { ...version('v1f', 'j6', 1, 'v0f'), stateHash: 'ab'.repeat(32) },
        2,
        'running',
      );
      expect((await store.getVersion('v1f'))?.stateHash).toBe('ab'.repeat(32));
      expect((await store.getVersion('v0f'))?.stateHash ?? null).toBeNull();
    });

    it("keeps a regression version's R2, MAE and RMSE", async () => {
      const store = await open();
      await store.createJob(job('j8'), version('v0h', 'j8', 0, null));
      const metrics = { testAccuracy: null, testLoss: 0.3, testR2: 0.81, testMae: 2.5, testRmse: 3.25 };
      await store.commitVersion({ ...version('v1h', 'j8', 1, 'v0h'), metrics }, 2, 'running');
      expect((await store.getVersion('v1h'))?.metrics).toEqual(metrics);
      expect((await store.getVersion('v0h'))?.metrics).toEqual({ testAccuracy: null, testLoss: null });
    });

    it('refuses a commit for a round the job has left, and one ahead of it', async () => {
      // Two coordinators that both believed they owned the job during a handover: the late one's
      // commit must not land on top of the new owner's.
      const store = await open();
      await store.createJob(job('j5'), version('v0e', 'j5', 0, null));
      await store.commitVersion(version('v1e', 'j5', 1, 'v0e'), 2, 'running');
      await expect(store.commitVersion(version('v1e-late', 'j5', 1, 'v0e'), 2, 'running')).rejects.toThrow(
        StaleRoundError,
      );
      await expect(store.commitVersion(version('v3e', 'j5', 3, 'v1e'), 4, 'running')).rejects.toThrow(
        StaleRoundError,
      );
      expect(await store.getJob('j5')).toMatchObject({ round: 2, versionId: 'v1e' });
      expect((await store.listVersions('j5')).map((v) => v.id)).toEqual(['v0e', 'v1e']);
    });

    it('accepts one update per unit and round', async () => {
      const store = await open();
      await store.createJob(job('j3'), version('v0c', 'j3', 0, null));
      const update = {
        id: 'u1',
        jobId: 'j3',
        round: 1,
        unitId: 'j3.r1.u0',
        contributorId: 'c1',
        baseVersionId: 'v0c',
        numSamples: 64,
        loss: 0.7,
        blobHash: 'b'.repeat(64),
        createdAt: '2026-01-01T00:00:00Z',
      };
      expect(await store.insertUpdate(update)).toBe(true);
      expect(await store.insertUpdate({ ...update, id: 'u2' })).toBe(false);
      expect((await store.listUpdates('j3', 1)).map((u) => u.id)).toEqual(['u1']);
    });

    it('keeps one contributor row per client id', async () => {
      const store = await open();
      const a = await store.upsertContributor('client-aaaa', 'wasm', '2026-01-01T00:00:00Z');
      const b = await store.upsertContributor('client-aaaa', 'webgl', '2026-01-01T00:01:00Z');
      expect(b.id).toBe(a.id);
      await store.recordContribution(a.id, 640, '2026-01-01T00:02:00Z');
      expect((await store.listContributors()).find((c) => c.id === a.id)).toMatchObject({
        backend: 'webgl',
        unitsDone: 1,
        samplesDone: 640,
      });
    });

    it("upserts a batch of joins in one transaction: one row per client id, a known client's id kept", async () => {
      const store = await open();
      const known = await store.upsertContributor('client-known', 'wasm', '2026-01-01T00:00:00Z');
      // The suite shares one database: rows of other cases are there too.
      const before = (await store.listContributors()).length;
      const at = '2026-01-01T00:05:00Z';
      const joins = [
        { clientId: 'client-known', backend: 'webgpu', now: at },
        ...Array.from({ length: 30 }, (_, i) => ({ clientId: `client-b${i}`, backend: 'wasm', now: at })),
      ];
      const records = await store.upsertContributors(joins);
      expect(records.map((r) => r.clientId)).toEqual(joins.map((j) => j.clientId));
      expect(records[0]).toMatchObject({
        id: known.id,
        backend: 'webgpu',
        firstSeen: known.firstSeen,
        lastSeen: at,
      });
      expect(new Set(records.map((r) => r.id)).size).toBe(31);
      // A contribution counted (an ordinary, durable write) after the batch lands on its row.
      await store.recordContribution(records[5]!.id, 64, '2026-01-01T00:06:00Z');
      const listed = await store.listContributors();
      expect(listed).toHaveLength(before + 30);
      expect(listed.find((c) => c.id === records[5]!.id)).toMatchObject({ unitsDone: 1, samplesDone: 64 });
      // One transaction: a batch with one bad row (no client id) writes none of its rows.
      const poisoned = [
        { clientId: 'client-c1', backend: 'wasm', now: at },
        { clientId: null as unknown as string, backend: 'wasm', now: at },
      ];
      await expect(store.upsertContributors(poisoned)).rejects.toThrow();
      expect(await store.listContributors()).toHaveLength(before + 30);
    });

    it('keeps tokens by digest and revokes each once', async () => {
      const store = await open();
      const token = {
        id: 't-1',
        role: 'viewer' as const,
        label: 'dashboard',
        hash: 'c'.repeat(64),
        createdAt: '2026-01-01T00:00:00Z',
        revokedAt: null,
      };
      await store.insertToken(token);
      expect(await store.findTokenByHash('c'.repeat(64))).toEqual(token);
      expect(await store.findTokenByHash('d'.repeat(64))).toBeNull();
      await expect(store.insertToken({ ...token, id: 't-2' })).rejects.toThrow();
      expect(await store.revokeToken('t-1', '2026-01-02T00:00:00Z')).toBe(true);
      expect(await store.revokeToken('t-1', '2026-01-03T00:00:00Z')).toBe(false);
      expect(await store.revokeToken('t-unknown', '2026-01-03T00:00:00Z')).toBe(false);
      expect((await store.findTokenByHash('c'.repeat(64)))?.revokedAt).toBe('2026-01-02T00:00:00Z');
      expect((await store.listTokens()).map((t) => t.id)).toContain('t-1');
    });

    it('keeps bans, re-bans with a new reason and unbans once', async () => {
      const store = await open();
      await store.banContributor({ contributorId: 'c-1', reason: 'spam', bannedAt: '2026-01-01T00:00:00Z' });
      await store.banContributor({
        contributorId: 'c-1',
        reason: 'bad updates',
        bannedAt: '2026-01-02T00:00:00Z',
      });
      expect(await store.getBan('c-1')).toEqual({
        contributorId: 'c-1',
        reason: 'bad updates',
        bannedAt: '2026-01-02T00:00:00Z',
      });
      expect(await store.getBan('c-2')).toBeNull();
      expect((await store.listBans()).map((b) => b.contributorId)).toEqual(['c-1']);
      expect(await store.unbanContributor('c-1')).toBe(true);
      expect(await store.unbanContributor('c-1')).toBe(false);
      expect(await store.getBan('c-1')).toBeNull();
    });

    it("keeps a dataset's versions in order, one per number, and deletes one", async () => {
      const store = await open();
      await store.putDataset(datasetVersion('penguins-s', 1, ['a'.repeat(64)]));
      await store.putDataset(datasetVersion('penguins-s', 2, ['a'.repeat(64), 'b'.repeat(64)]));
      await store.putDataset(datasetVersion('other-s', 1, []));
      const versions = await store.listDatasetVersions('penguins-s');
      expect(versions.map((d) => [d.id, d.version, d.parent])).toEqual([
        ['penguins-s@1', 1, null],
        ['penguins-s@2', 2, 'penguins-s@1'],
      ]);
      expect(versions[1]).toEqual(datasetVersion('penguins-s', 2, ['a'.repeat(64), 'b'.repeat(64)]));
      // (name, version) is unique even under another id.
      await expect(
        store.putDataset({ ...datasetVersion('penguins-s', 2, []), id: 'penguins-s@2b' }),
      ).rejects.toThrow();
      expect(await store.deleteDataset('penguins-s@1')).toBe(true);
      expect(await store.deleteDataset('penguins-s@1')).toBe(false);
      expect(await store.getDataset('penguins-s@1')).toBeNull();
      expect((await store.listDatasetVersions('penguins-s')).map((d) => d.version)).toEqual([2]);
      expect((await store.listDatasets()).map((d) => d.id)).toContain('other-s@1');
    });

    it('says which blobs model versions and updates use', async () => {
      const store = await open();
      await store.createJob(job('j7'), { ...version('v0g', 'j7', 0, null), hash: '7'.repeat(64) });
      await store.insertUpdate({
        id: 'u7',
        jobId: 'j7',
        round: 1,
        unitId: 'j7.r1.u0',
        contributorId: 'c1',
        baseVersionId: 'v0g',
        numSamples: 1,
        loss: 1,
        blobHash: '8'.repeat(64),
        createdAt: '2026-01-01T00:00:00Z',
      });
      const used = await store.blobsInUse(['7'.repeat(64), '8'.repeat(64), '9'.repeat(64)]);
      expect([...used].sort()).toEqual(['7'.repeat(64), '8'.repeat(64)]);
      expect((await store.blobsInUse([])).size).toBe(0);
    });

    registryCases(
      open,
      async (store, id) => await store.createJob(job(id), version(`${id}-v0`, id, 0, null)),
    );
    reputationCases(open);
    leaseCases(open);
    securityCases(open);
    sweepCases(open, async (store, id) => await store.createJob(job(id), version(`${id}-v0`, id, 0, null)));
    usageCases(open, async (store, id) => await store.createJob(job(id), version(`${id}-v0`, id, 0, null)));

    it('replaces a job spec (a changed budget) and answers false for an unknown job', async () => {
      const store = await open();
      await store.createJob(job('js-spec'), version('vs0', 'js-spec', 0, null));
      const budgeted = { ...spec, budget: { samples: 10, onExceed: 'stop' as const, alertAt: [1] } };
      expect(await store.setJobSpec('js-spec', budgeted)).toBe(true);
      expect((await store.getJob('js-spec'))?.spec.budget).toEqual(budgeted.budget);
      expect(await store.setJobSpec('nope', budgeted)).toBe(false);
    });

    if (reopen) {
      it('keeps acknowledged jobs, versions and updates after reopening', async () => {
        const store = await open();
        await store.createJob(job('j4'), version('v0d', 'j4', 0, null));
        await store.commitVersion(version('v1d', 'j4', 1, 'v0d'), 2, 'running');
        // A lazily committed batch of join rows, then an fsynced write: both kept.
        const [row] = await store.upsertContributors([{ clientId: 'kept', backend: null, now: 'now' }]);
        await store.recordContribution(row!.id, 5, 'later');
        await store.close();
        const again = await reopen();
        expect(await again.getJob('j4')).toMatchObject({ round: 2, versionId: 'v1d' });
        expect(await again.listVersions('j4')).toHaveLength(2);
        expect((await again.listContributors()).find((c) => c.clientId === 'kept')).toMatchObject({
          unitsDone: 1,
          samplesDone: 5,
        });
      });
    }
  });
}
