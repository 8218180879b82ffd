import { jobSpecSchema } from '@gridtab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJob } from '../scheduler/jobs.ts';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';
import { commitVersion } from './testing.ts';

let co: TestCoordinator;
beforeAll(async () => {
  co = await startTestCoordinator();
});
afterAll(() => co?.destroy());

const newJob = (name: string) => createJob(co, jobSpecSchema.parse({ ...TEST_JOB, name }));

describe('registry', () => {
  it('names a job by a slug of its name, and lists its versions oldest first', async () => {
    const job = await newJob('Shirts & Shoes v2');
    const v1 = await commitVersion(co, job.id, 0.5);
    const model = (await co.registry.listModels()).find((m) => m.name === 'shirts-shoes-v2');
    expect(model).toEqual({ name: 'shirts-shoes-v2', aliases: {}, latestVersionId: v1.id });
    const versions = await co.registry.versions('shirts-shoes-v2');
    expect(versions.map((v) => v.id)).toEqual([job.versionId, v1.id]);
    expect(versions[1]).toMatchObject({ parentId: job.versionId, jobId: job.id, hash: v1.hash });
    // A second job with the same name gets a distinct name instead of merging.
    const twin = await newJob('Shirts & Shoes v2');
    expect((await co.registry.listModels()).map((m) => m.name)).toContain(`shirts-shoes-v2-${twin.id}`);
  });

  it('registers a job when it is created; reads do not scan jobs; the start-up backfill does', async () => {
    const job = await newJob('Made Now');
    expect((await co.store.registry.getModelByJob(job.id))?.name).toBe('made-now');
    expect(await co.registry.registerJob(job)).toMatchObject({ name: 'made-now', jobId: job.id });
    // A job stored without its model, as every job was before registration at creation.
    const initial = (await co.store.getVersion(job.versionId!))!;
    const legacy = { ...job, id: 'j-legacy01', name: 'Legacy Job', versionId: null };
    await co.store.createJob(legacy, { ...initial, id: 'v-legacy01', jobId: legacy.id });
    expect((await co.registry.listModels()).map((m) => m.name)).not.toContain('legacy-job');
    await expect(co.registry.model('legacy-job')).rejects.toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    expect(await co.registry.backfill()).toBe(1);
    expect(await co.registry.model('legacy-job')).toMatchObject({ jobId: legacy.id });
    expect((await co.registry.versions('legacy-job')).map((v) => v.id)).toEqual(['v-legacy01']);
    expect(await co.registry.backfill()).toBe(0);
  });

  it('publishes a job that is no model (a trial) under a free name only', async () => {
    const trial = await createJob(
      { ...co, registry: null },
      jobSpecSchema.parse({ ...TEST_JOB, name: 'trial' }),
    );
    expect(await co.store.registry.getModelByJob(trial.id)).toBeNull();
    await newJob('Taken Name');
    await expect(co.registry.bindJob('taken-name', trial.id, null)).rejects.toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(await co.store.registry.getModelByJob(trial.id)).toBeNull();
    const published = await co.registry.bindJob('published', trial.id, {
      alias: 'production',
      metric: 'testAccuracy',
    });
    expect(published).toMatchObject({ name: 'published', jobId: trial.id });
    const v = await commitVersion(co, trial.id, 0.8);
    expect((await co.registry.onVersionCommitted(trial.id, v.id))?.versionId).toBe(v.id);
  });

  it('renames a job model and refuses a taken name', async () => {
    const job = await newJob('to rename');
    expect((await co.registry.bindJob('renamed', job.id, null)).name).toBe('renamed');
    await expect(co.registry.model('to-rename')).rejects.toThrow(/does not exist/);
    const other = await newJob('other');
    await expect(co.registry.bindJob('renamed', other.id, null)).rejects.toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
  });

  it('moves aliases, refuses unknown versions, and rolls back as a stack of moves', async () => {
    const job = await newJob('alias model');
    await co.registry.bindJob('aliased', job.id, null);
    const a = await commitVersion(co, job.id, 0.6);
    const b = await commitVersion(co, job.id, 0.7);
    const c = await commitVersion(co, job.id, 0.8);
    await expect(co.registry.moveAlias('aliased', 'production', { versionId: 'v-nope' })).rejects.toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    await expect(co.registry.moveAlias('aliased', 'bad alias!', { versionId: a.id })).rejects.toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
    for (const v of [a, b, c]) await co.registry.moveAlias('aliased', 'production', { versionId: v.id });
    expect((await co.registry.rollback('aliased', 'production')).versionId).toBe(b.id);
    expect((await co.registry.rollback('aliased', 'production')).versionId).toBe(a.id);
    await expect(co.registry.rollback('aliased', 'production')).rejects.toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect((await co.registry.history('aliased', 'production')).map((m) => m.actor)).toEqual([
      'admin',
      'admin',
      'admin',
      'rollback',
      'rollback',
    ]);
    expect((await co.registry.listModels()).find((m) => m.name === 'aliased')?.aliases).toEqual({
      production: a.id,
    });
  });

  it('splits an alias between two versions by client, the same way every time', async () => {
    const job = await newJob('canary model');
    const a = await commitVersion(co, job.id, 0.6);
    const b = await commitVersion(co, job.id, 0.7);
    await co.registry.moveAlias('canary-model', 'production', {
      versionId: a.id,
      canary: { versionId: b.id, fraction: 0.25 },
    });
    const picks: Awaited<ReturnType<typeof co.registry.resolve>>[] = [];
    for (let i = 0; i < 400; i++)
      picks.push(await co.registry.resolve('canary-model', 'production', `k${i}`));
    const onCanary = picks.filter((p) => p.canary);
    expect(onCanary.length).toBeGreaterThan(60);
    expect(onCanary.length).toBeLessThan(140);
    expect(onCanary.every((p) => p.versionId === b.id && p.hash === b.hash)).toBe(true);
    expect(await co.registry.resolve('canary-model', 'production', 'k7')).toEqual(picks[7]);
  });

  it('promotes automatically only when the new version beats the alias on its metric', async () => {
    const job = await newJob('auto model');
    await co.registry.bindJob('auto', job.id, { alias: 'staging', metric: 'testAccuracy' });
    const first = await commitVersion(co, job.id, 0.6);
    expect((await co.registry.onVersionCommitted(job.id, first.id))?.versionId).toBe(first.id);
    const worse = await commitVersion(co, job.id, 0.55);
    expect(await co.registry.onVersionCommitted(job.id, worse.id)).toBeNull();
    const better = await commitVersion(co, job.id, 0.7);
    expect((await co.registry.onVersionCommitted(job.id, better.id))?.actor).toBe('auto');
    expect((await co.registry.alias('auto', 'staging')).versionId).toBe(better.id);
    // No auto-promotion configured: nothing moves.
    const plain = await newJob('plain model');
    const v = await commitVersion(co, plain.id, 0.9);
    expect(await co.registry.onVersionCommitted(plain.id, v.id)).toBeNull();
  });

  it('reports lineage: the updates, contributors and shards that fed a version', async () => {
    const job = await newJob('lineage model');
    const base = (await co.store.getVersion(job.versionId!))!;
    const update = {
      id: 'u-lineage',
      jobId: job.id,
      round: 1,
      unitId: `${job.id}.r1.u0`,
      contributorId: 'c-lineage',
      baseVersionId: base.id,
      numSamples: 320,
      loss: 0.5,
      blobHash: 'b'.repeat(64),
      createdAt: new Date().toISOString(),
    };
    await co.store.insertUpdate(update);
    const v = await commitVersion(co, job.id, 0.5);
    const lineage = await co.registry.lineage('lineage-model', v.id);
    expect(lineage.contributors).toEqual(['c-lineage']);
    expect(lineage.numSamples).toBe(320);
    expect(lineage.updates[0]).toMatchObject({ unitId: update.unitId, baseVersionId: base.id });
    const dataset = (await co.store.getDataset(job.spec.dataset))!;
    expect(lineage.shards.length).toBeGreaterThan(0);
    for (const s of lineage.shards) expect(dataset.shardHashes).toContain(s);
  });
});
