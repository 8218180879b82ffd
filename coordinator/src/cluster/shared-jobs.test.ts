/**
 * With several coordinators the owner of a job cannot keep it in memory: a pause or cancel may be
 * written by a process that does not own the job (the admin API answers on any of them). Two
 * coordinators in this process share a fresh PostgreSQL database and Redis; one owns the job, the
 * other pauses and cancels it, and the owner must honour each at its next request and submit.
 */
import type { WorkUnit } from '@gridtab/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../storage/postgres/test-db.ts';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PARAMS = 101_770;

describe('job changes made by a process that does not own the job', () => {
  let db: TestDatabase | null = null;
  const coordinators: TestCoordinator[] = [];
  afterAll(async () => {
    for (const co of coordinators) await co.destroy();
    await db?.drop();
  });

  it('reach the owner at its next request and submit', async () => {
    db = await createTestDatabase();
    const start = async (port: number) => {
      const co = await startTestCoordinator({
        databaseUrl: db!.url,
        redisUrl: REDIS_URL,
        publicUrl: `http://127.0.0.1:${port}`,
        tickMs: 1e9,
      });
      coordinators.push(co);
      return co;
    };
    const owner = await start(1);
    const other = await start(2);
    const job = await addJob(owner);
    const take = async (who: string): Promise<WorkUnit | null> =>
      (await owner.scheduler.requestUnit(who)).unit;
    const submit = (who: string, u: WorkUnit) => {
      const payload = new Uint8Array(PARAMS * 4);
      return owner.scheduler.submit(who, updateMetaFor(u, payload), payload);
    };
    const [a, b, c] = [await take('a'), await take('b'), await take('c')];
    expect(other.scheduler.roundOf(job.id)).toBeUndefined(); // the other process does not run it
    await submit('a', a!);

    await other.scheduler.setStatus(job.id, 'paused');
    expect(await take('d')).toBeNull();
    await expect(submit('b', b!)).rejects.toMatchObject({ code: 'JOB_NOT_RUNNING' });

    await other.scheduler.setStatus(job.id, 'running');
    await submit('b', b!);
    await other.scheduler.setStatus(job.id, 'cancelled');
    await expect(submit('c', c!)).rejects.toMatchObject({ code: 'JOB_NOT_RUNNING' });
    expect(await take('e')).toBeNull();
    expect((await owner.store.listUpdates(job.id, 1)).map((u) => u.unitId).sort()).toEqual(
      [a!.unitId, b!.unitId].sort(),
    );
  });
});
