/**
 * Pause, resume, cancel and a quarantine's release asked of a process that does not own the
 * job: the owner acts on them before the API answers (published over the Redis adapter,
 * acknowledged; job-control.ts). The owner keeps the job row and reputation records in memory
 * (unit requests read no job row from PostgreSQL), so without the message its copies would still
 * say what they said before. Two coordinators in this process share a fresh PostgreSQL database
 * and Redis; their clock is manual, so a copy never expires on its own while the test runs.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock.ts';
import { createTestDatabase, type TestDatabase } from '../storage/postgres/test-db.ts';
import { addJob, startTestCoordinator, type TestCoordinator } from '../testing.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = 'test-admin-token';

describe('job control asked of a process that does not own the job', () => {
  let db: TestDatabase | null = null;
  let redis: Redis | null = null;
  const coordinators: TestCoordinator[] = [];
  afterAll(async () => {
    for (const co of coordinators) await co.destroy();
    redis?.disconnect();
    await db?.drop();
  });

  const post = async (co: TestCoordinator, path: string) => {
    const res = await fetch(`${co.url}/api${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('reaches the owner before the answer; the owner reads no job row per unit request', async () => {
    db = await createTestDatabase();
    redis = new Redis(REDIS_URL);
    const clock = new ManualClock(Date.now());
    const channel = `gridtab-control-${randomBytes(6).toString('hex')}`;
    for (const port of [1, 2]) {
      coordinators.push(
        await startTestCoordinator(
          {
            databaseUrl: db.url,
            redisUrl: REDIS_URL,
            publicUrl: `http://127.0.0.1:${port}`,
            // Their own channel: a change waits for every coordinator on it.
            redisChannel: channel,
            // No takeovers: the owner stays the owner.
            tickMs: 1e9,
          },
          { clock },
        ),
      );
    }
    const [owner, other] = coordinators;
    const job = await addJob(owner, {
      rounds: { unitsPerRound: 20, quorum: 1, deadlineMs: 600_000, leaseMs: 300_000 },
    });
    expect((await redis.get(`gridtab:owner:${job.id}`))?.split(' ')[1]).toBe('http://127.0.0.1:1');

    // The job-row cache: after the first request, more requests read no job row.
    // Counted: the job rows the scheduler reads (its cache, job-cache.ts). The console's views
    // read jobs on their own timers; they are not on the assignment path.
    let reads = 0;
    const getJob = owner.store.getJob.bind(owner.store);
    vi.spyOn(owner.store, 'getJob').mockImplementation((id) => {
      if (new Error().stack?.includes('job-cache.ts')) reads++;
      return getJob(id);
    });
    expect((await owner.scheduler.requestUnit('c-first')).unit?.jobId).toBe(job.id);
    const afterFirst = reads;
    for (const c of ['c-2', 'c-3', 'c-4', 'c-5'])
      expect((await owner.scheduler.requestUnit(c)).unit?.jobId).toBe(job.id);
    expect(reads).toBe(afterFirst);

    // Paused on the other process: the owner hands nothing out by the time it answers.
    const paused = await post(other, `/jobs/${job.id}/pause`);
    expect(paused).toMatchObject({ status: 200, body: { status: 'paused' } });
    expect((await owner.scheduler.requestUnit('c-6')).unit).toBeNull();

    // Resumed there: the owner hands units out again (its copy said paused).
    const resumed = await post(other, `/jobs/${job.id}/resume`);
    expect(resumed).toMatchObject({ status: 200, body: { status: 'running' } });
    expect((await owner.scheduler.requestUnit('c-7')).unit?.jobId).toBe(job.id);
    expect(other.scheduler.roundOf(job.id)).toBeUndefined(); // still run by the owner only

    // A quarantine lifted there: the owner, which read "quarantined", gives work at once.
    const now = new Date(clock.now()).toISOString();
    const suspect = await owner.store.upsertContributor('control_quarantine_client', 'cpu', now);
    await owner.store.reputation.setQuarantined(suspect.id, true, now);
    await expect(owner.scheduler.requestUnit(suspect.id)).rejects.toMatchObject({ code: 'QUARANTINED' });
    const released = await post(other, `/contributors/${suspect.id}/release-quarantine`);
    expect(released).toMatchObject({ status: 200, body: { released: true } });
    expect((await owner.scheduler.requestUnit(suspect.id)).unit?.jobId).toBe(job.id);

    // Cancelled there: the owner's runner is gone and it holds the job no longer.
    const cancelled = await post(other, `/jobs/${job.id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    expect(owner.scheduler.roundOf(job.id)).toBeUndefined();
    expect((await owner.scheduler.requestUnit('c-8')).unit).toBeNull();
    expect(await redis.get(`gridtab:owner:${job.id}`)).toBeNull();
  });
});
