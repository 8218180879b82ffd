/**
 * Two coordinators on one PostgreSQL database (DATABASE_URL, several processes): registering
 * the same jobs from both at once, at creation and in the start-up backfill, leaves exactly one
 * model per job under distinct names.
 */
import { jobSpecSchema } from '@gridtab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJob } from '../scheduler/jobs.ts';
import { createTestDatabase, type TestDatabase } from '../storage/postgres/test-db.ts';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';

describe('registry shared by coordinators on one PostgreSQL database', () => {
  let db: TestDatabase;
  let a: TestCoordinator;
  let b: TestCoordinator;

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestCoordinator({ databaseUrl: db.url });
    b = await startTestCoordinator({ databaseUrl: db.url });
  });
  afterAll(async () => {
    await b?.destroy();
    await a?.destroy();
    await db?.drop();
  });

  const spec = (name: string) => jobSpecSchema.parse({ ...TEST_JOB, name });

  it('registers jobs of one name from both at once: one model each, under distinct names', async () => {
    const jobs = await Promise.all([
      createJob(a, spec('Twin')),
      createJob({ ...b, registry: null }, spec('Twin')),
      createJob({ ...a, registry: null }, spec('Twin')),
    ]);
    // As createJob on each would, at the same moment: the same job from both, names colliding.
    await Promise.all(jobs.slice(1).flatMap((j) => [a.registry.registerJob(j), b.registry.registerJob(j)]));
    const names = await Promise.all(
      jobs.map(async (j) => (await b.store.registry.getModelByJob(j.id))?.name),
    );
    expect(new Set(names).size).toBe(3);
    expect(names[0]).toBe('twin');
    expect(names.slice(1).sort()).toEqual(
      jobs
        .slice(1)
        .map((j) => `twin-${j.id}`)
        .sort(),
    );
  });

  it('backfills jobs from both at once without a second model for any', async () => {
    // Jobs stored without their models, as before registration at creation.
    const ids: string[] = [];
    for (const name of ['Old', 'Old', 'Older']) {
      const job = await createJob({ ...a, registry: null }, spec(name));
      ids.push(job.id);
    }
    await Promise.all([
      a.registry.backfill(),
      b.registry.backfill(),
      a.registry.registerJob((await a.store.getJob(ids[0]))!),
    ]);
    const models = (await b.store.registry.listModels()).filter((m) => ids.includes(m.jobId ?? ''));
    expect(models.map((m) => m.jobId).sort()).toEqual([...ids].sort());
    expect(new Set(models.map((m) => m.name)).size).toBe(3);
    expect(models.map((m) => m.name)).toEqual(expect.arrayContaining(['old', 'older']));
    expect(await a.registry.backfill()).toBe(0);
    expect(await b.registry.backfill()).toBe(0);
  });
});
