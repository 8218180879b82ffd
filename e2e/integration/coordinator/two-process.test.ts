/**
 * Two coordinator processes on different ports share a fresh PostgreSQL database and Redis;
 * Node contributors are spread over both (each knows both URLs). The job's owner is killed with
 * SIGKILL in the middle of a round (an update of a round without a version acknowledged). The
 * contributors must move to the other process, which takes the job over, and the job must carry
 * on; every version the API acknowledged before the kill must still be there, and every update
 * a contributor saw acknowledged must be stored and counted in its round's version.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import { freePort, spawnCoordinator, TEST_JOB, writeSyntheticDataset } from '@gridtab/coordinator/testing';
import { jobSpecSchema } from '@gridtab/shared';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { PgStore } from '../../../coordinator/src/storage/postgres/pg-store.ts';
import { createTestDatabase, type TestDatabase } from '../../../coordinator/src/storage/postgres/test-db.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = 'two-process-admin';

interface Acked {
  jobId: string;
  round: number;
  unitId: string;
}

describe('two coordinators sharing PostgreSQL and Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-two-'));
  const children: ChildProcess[] = [];
  let contributors: Contributor[] = [];
  let db: TestDatabase | null = null;
  afterAll(async () => {
    for (const c of contributors) await c.stop();
    for (const c of children) c.kill('SIGKILL');
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (name: string, port: number, databaseUrl: string) => {
    const proc = await spawnCoordinator(name, port, {
      DATA_DIR: join(dir, name),
      FASHION_MNIST_DIR: dir,
      ADMIN_TOKEN: ADMIN,
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      GRIDTAB_PUBLIC_URL: `http://127.0.0.1:${port}`,
      GRIDTAB_OWNER_TTL_MS: '1500',
    });
    children.push(proc);
    return proc;
  };

  it('loses no acknowledged update or version when the owner is killed mid-round', async () => {
    writeSyntheticDataset(dir);
    db = await createTestDatabase();
    const [portA, portB] = [await freePort(), await freePort()];
    const [urlA, urlB] = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
    const a = await start('a', portA, db.url);
    await start('b', portB, db.url);

    // Created through A, so A owns the job.
    const created = await fetch(`${urlA}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        jobSpecSchema.parse({
          ...TEST_JOB,
          rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 },
          stopping: { maxRounds: 100_000 },
        }),
      ),
    });
    expect(created.status).toBe(201);
    const jobId = ((await created.json()) as { id: string }).id;
    const redis = new Redis(REDIS_URL);
    try {
      expect(await redis.get(`gridtab:owner:${jobId}`)).toMatch(new RegExp(`${urlA}$`));

      // Half the contributors start on A, half on B (which redirects them to A, the owner).
      const acked: Acked[] = [];
      contributors = [0, 1, 2, 3].map((i) =>
        createNodeContributor({
          coordinatorUrl: i % 2 ? [urlB, urlA] : [urlA, urlB],
          benchmarkMs: 50,
          behaviour: {
            submit: async ({ unit, send }) => {
              const ack = await send();
              if (ack.ok) acked.push({ jobId: unit.jobId, round: unit.round, unitId: unit.unitId });
              return ack;
            },
          },
        }),
      );
      // One at a time: their start-up benchmarks share this process's TF.js backends.
      for (const c of contributors) await c.start();

      const versionsVia = async (url: string) => {
        const res = await fetch(`${url}/api/jobs/${jobId}/versions`).catch(() => null);
        return res?.ok ? ((await res.json()) as { id: string; round: number; unitIds: string[] }[]) : null;
      };
      // Training goes on through A until a version is committed and an update of the next round
      // (not yet closed) is acknowledged: that is mid-round.
      let before: { id: string; round: number }[] = [];
      await expect
        .poll(
          async () => {
            before = (await versionsVia(urlA)) ?? before;
            const closed = new Set(before.map((v) => v.round));
            return before.length >= 2 && acked.some((u) => !closed.has(u.round));
          },
          { timeout: 240_000, interval: 100 },
        )
        .toBe(true);
      const ackedBefore = acked.length;
      const exited = new Promise((r) => a.once('exit', r));
      a.kill('SIGKILL');
      await exited;
      const unitsAtKill = contributors.map((c) => c.state.unitsDone);

      // B takes the job over once A's ownership lapses, and every contributor works there.
      await expect
        .poll(async () => await redis.get(`gridtab:owner:${jobId}`), { timeout: 60_000, interval: 200 })
        .toMatch(new RegExp(`${urlB}$`));
      await expect
        .poll(() => contributors.every((c, i) => c.state.unitsDone > unitsAtKill[i]), {
          timeout: 240_000,
          interval: 250,
        })
        .toBe(true);
      // The job carries on: versions beyond the ones before the kill.
      await expect
        .poll(async () => (await versionsVia(urlB))?.length ?? 0, { timeout: 120_000, interval: 250 })
        .toBeGreaterThan(before.length + 1);

      // Nothing acknowledged was lost: every version the API gave before the kill, every update
      // acknowledged to a contributor (stored, and in its round's version once there is one).
      const after = (await versionsVia(urlB))!;
      const ids = new Set(after.map((v) => v.id));
      for (const v of before) expect(ids.has(v.id), `version ${v.id} survives`).toBe(true);
      const store = await PgStore.open(db.url);
      try {
        expect(ackedBefore).toBeGreaterThan(0);
        for (const u of acked) {
          const stored = await store.listUpdates(u.jobId, u.round);
          expect(
            stored.map((s) => s.unitId),
            `acknowledged update ${u.unitId}`,
          ).toContain(u.unitId);
          const version = after.find((v) => v.round === u.round);
          if (version) expect(version.unitIds, `version of round ${u.round}`).toContain(u.unitId);
        }
        const rounds = after.map((v) => v.round);
        expect(rounds).toEqual([...new Set(rounds)].sort((x, y) => x - y)); // one version per round
      } finally {
        await store.close();
      }
    } finally {
      redis.disconnect();
    }
  }, 600_000);
});
