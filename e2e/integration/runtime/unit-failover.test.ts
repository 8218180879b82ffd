/**
 * The unit in hand survives its coordinator's death: a Node contributor (the runtime the
 * headless worker and the contribute page run) trains a unit leased by the job's owner, and the
 * owner is SIGKILLed while the unit trains. The runtime's socket drops; it keeps training,
 * moves to the other coordinator (its reconnects to the dead one fail), joins there and submits.
 * That process takes the job over and accepts the update because the lease is a row in the
 * shared store; the unit lands in the round's version. Two coordinators as child processes share
 * a fresh PostgreSQL database and Redis.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import { freePort, spawnCoordinator, TEST_JOB, writeSyntheticDataset } from '@gridtab/coordinator/testing';
import { jobSpecSchema, type Result, type UpdateAck, type WorkUnit } from '@gridtab/shared';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../coordinator/src/storage/postgres/test-db.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = 'unit-failover-admin';

describe('the unit in hand when its coordinator dies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-unit-failover-'));
  const running = new Map<string, ChildProcess>();
  let contributor: Contributor | null = null;
  let db: TestDatabase | null = null;
  let redis: Redis | null = null;
  afterAll(async () => {
    await contributor?.stop();
    for (const p of running.values()) p.kill('SIGKILL');
    redis?.disconnect();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is trained through the kill, submitted to the other process, and lands in a version', async () => {
    writeSyntheticDataset(dir);
    db = await createTestDatabase();
    redis = new Redis(REDIS_URL);
    const channel = `gridtab-unit-failover-${randomBytes(6).toString('hex')}`;
    const urls = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    for (const url of urls) {
      const port = new URL(url).port;
      const proc = await spawnCoordinator(url, Number(port), {
        DATA_DIR: join(dir, port),
        FASHION_MNIST_DIR: dir,
        ADMIN_TOKEN: ADMIN,
        DATABASE_URL: db.url,
        REDIS_URL,
        GRIDTAB_REDIS_CHANNEL: channel,
        GRIDTAB_PUBLIC_URL: url,
        GRIDTAB_OWNER_TTL_MS: '1500',
      });
      running.set(url, proc);
    }

    const created = await fetch(`${urls[0]}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        jobSpecSchema.parse({
          ...TEST_JOB,
          // One long unit per round, so the kill lands while it trains.
          hyperparameters: { ...TEST_JOB.hyperparameters, localSteps: 300 },
          rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 300_000, leaseMs: 120_000 },
          stopping: { maxRounds: 1 },
        }),
      ),
    });
    expect(created.status).toBe(201);
    const jobId = ((await created.json()) as { id: string }).id;
    const ownerKey = `gridtab:owner:${jobId}`;
    await expect
      .poll(async () => (await redis!.get(ownerKey))?.split(' ')[1], { timeout: 30_000 })
      .toBeTruthy();
    const owner = (await redis.get(ownerKey))!.split(' ')[1];
    const survivor = urls.find((u) => u !== owner)!;
    // What the survivor logs: it names the versions it commits (as the job's new owner).
    let survivorLog = '';
    running.get(survivor)!.stdout!.on('data', (d: Buffer) => {
      survivorLog += d;
    });

    let submitted: { unit: WorkUnit; ack: Result<UpdateAck> } | null = null;
    const c = createNodeContributor({
      coordinatorUrl: [owner, survivor],
      benchmarkMs: 50,
      behaviour: {
        submit: async ({ unit, send }) => {
          const ack = await send();
          submitted = { unit, ack };
          return ack;
        },
      },
    });
    contributor = c;
    // The owner dies once the unit has started training; the socket is seen to drop mid-unit.
    let killedAt: number | null = null;
    let droppedWhileTraining = false;
    c.subscribe((s) => {
      if (s.phase === 'training' && s.unitProgress > 0 && killedAt === null) {
        killedAt = s.unitProgress;
        running.get(owner)!.kill('SIGKILL');
        running.delete(owner);
      }
      if (killedAt !== null && s.phase === 'training' && !s.connected) droppedWhileTraining = true;
    });
    await c.start();

    await expect.poll(() => submitted, { timeout: 400_000, interval: 200 }).not.toBeNull();
    const { unit, ack } = submitted!;
    expect(killedAt).toBeLessThan(1);
    expect(droppedWhileTraining).toBe(true);
    expect(unit.jobId).toBe(jobId);
    expect(ack).toMatchObject({ ok: true, data: { accepted: true, round: unit.round } });

    // The round's version, made by the new owner, holds exactly the unit trained through the kill.
    await expect
      .poll(
        async () => {
          const res = await fetch(`${survivor}/api/jobs/${jobId}/versions`);
          const versions = (await res.json()) as { round: number; unitIds: string[] }[];
          return versions.find((v) => v.round === unit.round)?.unitIds ?? null;
        },
        { timeout: 60_000, interval: 250 },
      )
      .toEqual([unit.unitId]);
    // Made by the survivor (the owner key itself is gone once the job completes, which may be
    // before this line reads it).
    expect(survivorLog).toMatch(new RegExp(`job ${jobId}: version v-\\S+ \\(round ${unit.round}`));
  }, 600_000);
});
