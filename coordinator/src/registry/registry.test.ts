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
    const model = co.registry.listModels().find((m) => m.name === 'shirts-shoes-v2');
    expect(model).toEqual({ name: 'shirts-shoes-v2', aliases: {}, latestVersionId: v1.id });
    const versions = co.registry.versions('shirts-shoes-v2');
    expect(versions.map((v) => v.id)).toEqual([job.versionId, v1.id]);
    expect(versions[1]).toMatchObject({ parentId: job.versionId, jobId: job.id, hash: v1.hash });
    // A second job with the same name gets a distinct name instead of merging.
    const twin = await newJob('Shirts & Shoes v2');
    expect(co.registry.listModels().map((m) => m.name)).toContain(`shirts-shoes-v2-${twin.id}`);
  });

  it('renames a job model and refuses a taken name', async () => {
    const job = await newJob('to rename');
    co.registry.syncJobs();
    expect(co.registry.bindJob('renamed', job.id, null).name).toBe('renamed');
    expect(() => co.registry.model('to-rename')).toThrow(/does not exist/);
    const other = await newJob('other');
    expect(() => co.registry.bindJob('renamed', other.id, null)).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
  });

  it('moves aliases, refuses unknown versions, and rolls back as a stack of moves', async () => {
    const job = await newJob('alias model');
    co.registry.bindJob('aliased', job.id, null);
    const a = await commitVersion(co, job.id, 0.6);
    const b = await commitVersion(co, job.id, 0.7);
    const c = await commitVersion(co, job.id, 0.8);
    expect(() => co.registry.moveAlias('aliased', 'production', { versionId: 'v-nope' })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    expect(() => co.registry.moveAlias('aliased', 'bad alias!', { versionId: a.id })).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
    for (const v of [a, b, c]) co.registry.moveAlias('aliased', 'production', { versionId: v.id });
    expect(co.registry.rollback('aliased', 'production').versionId).toBe(b.id);
    expect(co.registry.rollback('aliased', 'production').versionId).toBe(a.id);
    expect(() => co.registry.rollback('aliased', 'production')).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(co.registry.history('aliased', 'production').map((m) => m.actor)).toEqual([
      'admin',
      'admin',
      'admin',
      'rollback',
      'rollback',
    ]);
    expect(co.registry.listModels().find((m) => m.name === 'aliased')?.aliases).toEqual({ production: a.id });
  });

  it('splits an alias between two versions by client, the same way every time', async () => {
    const job = await newJob('canary model');
    const a = await commitVersion(co, job.id, 0.6);
    const b = await commitVersion(co, job.id, 0.7);
    co.registry.moveAlias('canary-model', 'production', {
      versionId: a.id,
      canary: { versionId: b.id, fraction: 0.25 },
    });
    const picks = Array.from({ length: 400 }, (_, i) =>
      co.registry.resolve('canary-model', 'production', `k${i}`),
    );
    const onCanary = picks.filter((p) => p.canary);
    expect(onCanary.length).toBeGreaterThan(60);
    expect(onCanary.length).toBeLessThan(140);
    expect(onCanary.every((p) => p.versionId === b.id && p.hash === b.hash)).toBe(true);
    expect(co.registry.resolve('canary-model', 'production', 'k7')).toEqual(picks[7]);
  });

  it('promotes automatically only when the new version beats the alias on its metric', async () => {
    const job = await newJob('auto model');
    co.registry.bindJob('auto', job.id, { alias: 'staging', metric: 'testAccuracy' });
    const first = await commitVersion(co, job.id, 0.6);
    expect(co.registry.onVersionCommitted(job.id, first.id)?.versionId).toBe(first.id);
    const worse = await commitVersion(co, job.id, 0.55);
    expect(co.registry.onVersionCommitted(job.id, worse.id)).toBeNull();
    const better = await commitVersion(co, job.id, 0.7);
    expect(co.registry.onVersionCommitted(job.id, better.id)?.actor).toBe('auto');
    expect(co.registry.alias('auto', 'staging').versionId).toBe(better.id);
    // No auto-promotion configured: nothing moves.
    const plain = await newJob('plain model');
    const v = await commitVersion(co, plain.id, 0.9);
    expect(co.registry.onVersionCommitted(plain.id, v.id)).toBeNull();
  });

  it('reports lineage: the updates, contributors and shards that fed a version', async () => {
    const job = await newJob('lineage model');
    const base = co.store.getVersion(job.versionId!)!;
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
    co.store.insertUpdate(update);
    const v = await commitVersion(co, job.id, 0.5);
    const lineage = co.registry.lineage('lineage-model', v.id);
    expect(lineage.contributors).toEqual(['c-lineage']);
    expect(lineage.numSamples).toBe(320);
    expect(lineage.updates[0]).toMatchObject({ unitId: update.unitId, baseVersionId: base.id });
    const dataset = co.store.getDataset(job.spec.dataset)!;
    expect(lineage.shards.length).toBeGreaterThan(0);
    for (const s of lineage.shards) expect(dataset.shardHashes).toContain(s);
  });
});
