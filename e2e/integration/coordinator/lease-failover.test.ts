/**
 * Leases in the shared store, with real processes: two coordinators share a fresh PostgreSQL
 * database and Redis. Every unit a contributor trains is held at its submit until the test lets
 * it go, so at each kill both units of the round are leased by the owner and trained, their
 * updates not yet sent. The owner is killed with SIGKILL; the contributors move to the other
 * process, which must accept both updates (it takes the job over and honours the dead owner's
 * leases). The killed process is started again and the next round's owner is killed the same
 * way. At the end every round has one version holding exactly its two units: none partial,
 * none duplicated.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import { freePort, spawnCoordinator, TEST_JOB, writeSyntheticDataset } from '@gridtab/coordinator/testing';
import { jobSpecSchema, type Result, type UpdateAck, type WorkUnit } from '@gridtab/shared';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { PgStore } from '../../../coordinator/src/storage/postgres/pg-store.ts';
import { createTestDatabase, type TestDatabase } from '../../../coordinator/src/storage/postgres/test-db.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = 'lease-failover-admin';
/**
 * Owners killed in one run. The issue asks for 20; each kill costs a process start and a
 * failover (about a minute on a 2-core machine shared with other work), so the default is smaller; set
 * GRIDTAB_FAILOVER_KILLS=20 for the full loop.
 */
const KILLS = Number(process.env.GRIDTAB_FAILOVER_KILLS ?? 5);

/** A trained unit waiting at its submit, and what became of it once let go. */
interface Held {
  unit: WorkUnit;
  go(): void;
  ack?: Result<UpdateAck>;
  /** Delivered before the kill: a unit of an earlier round than the two the kill is about. */
  released?: boolean;
}

describe('leases in the shared store: the owner killed while units are in flight', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-lease-failover-'));
  const running = new Map<string, ChildProcess>();
  let contributors: Contributor[] = [];
  let db: TestDatabase | null = null;
  const held: Held[] = [];
  afterAll(async () => {
    // Units still held at their submit go, so the contributors can stop.
    for (const h of held) h.go();
    for (const c of contributors) await c.stop();
    for (const p of running.values()) p.kill('SIGKILL');
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (url: string, databaseUrl: string) => {
    const port = new URL(url).port;
    const proc = await spawnCoordinator(url, Number(port), {
      DATA_DIR: join(dir, port),
      FASHION_MNIST_DIR: dir,
      ADMIN_TOKEN: ADMIN,
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      GRIDTAB_PUBLIC_URL: url,
      GRIDTAB_OWNER_TTL_MS: '1500',
    });
    running.set(url, proc);
  };

  const kill = async (url: string) => {
    const proc = running.get(url)!;
    running.delete(url);
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  };

  it(`the new owner accepts every unit in flight, ${KILLS} kills in a row`, async () => {
    writeSyntheticDataset(dir);
    db = await createTestDatabase();
    const urls = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    for (const url of urls) await start(url, db.url);

    const created = await fetch(`${urls[0]}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        jobSpecSchema.parse({
          ...TEST_JOB,
          rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 300_000, leaseMs: 120_000 },
          stopping: { maxRounds: 100_000 },
        }),
      ),
    });
    expect(created.status).toBe(201);
    const jobId = ((await created.json()) as { id: string }).id;
    const redis = new Redis(REDIS_URL);
    const ownerUrl = async () => (await redis.get(`gridtab:owner:${jobId}`))?.split(' ')[1] ?? null;

    contributors = urls.map((_, i) =>
      createNodeContributor({
        coordinatorUrl: i ? [...urls].reverse() : urls,
        benchmarkMs: 50,
        behaviour: {
          submit: async ({ unit, send }) => {
            const h: Held = { unit, go: () => {} };
            const gone = new Promise<void>((r) => {
              h.go = r;
            });
            held.push(h);
            await gone;
            h.ack = await send();
            return h.ack;
          },
        },
      }),
    );
    try {
      for (const c of contributors) await c.start();
      const rounds: number[] = [];
      for (let n = 1; n <= KILLS; n++) {
        // Both units of a round trained and waiting: both leased by the owner, neither delivered.
        // A tab can hold a unit of an earlier round (one handed out before the owner settled at
        // start-up): that one is delivered first, so the kill hits two units of one round.
        const sameRound = () => {
          const waiting = held.filter((h) => !h.ack && !h.released);
          const newest = Math.max(...waiting.map((h) => h.unit.round));
          for (const h of waiting.filter((w) => w.unit.round < newest)) {
            h.released = true;
            h.go();
          }
          return waiting.filter((h) => h.unit.round === newest).length;
        };
        await expect.poll(sameRound, { timeout: 240_000, interval: 200 }).toBe(2);
        const inFlight = held.filter((h) => !h.ack && !h.released);
        expect(inFlight[0].unit.round).toBe(inFlight[1].unit.round);
        const owner = await ownerUrl();
        expect(urls).toContain(owner);
        await kill(owner!);
        for (const h of inFlight) h.go();
        await expect.poll(() => inFlight.every((h) => h.ack), { timeout: 120_000, interval: 200 }).toBe(true);
        for (const h of inFlight)
          expect(h.ack, `unit ${h.unit.unitId} after kill ${n}`).toMatchObject({
            ok: true,
            data: { accepted: true, round: h.unit.round },
          });
        expect(await ownerUrl()).not.toBe(owner);
        rounds.push(inFlight[0].unit.round);
        await start(owner!, db.url);
      }

      // Every round's version holds exactly its two units, and each round has one version.
      const live = urls.find((u) => running.has(u))!;
      await expect
        .poll(
          async () => {
            const res = await fetch(`${live}/api/jobs/${jobId}/versions`);
            return ((await res.json()) as { round: number }[]).map((v) => v.round);
          },
          { timeout: 60_000, interval: 250 },
        )
        .toEqual(expect.arrayContaining(rounds));
      const store = await PgStore.open(db.url);
      try {
        const versions = await store.listVersions(jobId);
        const byRound = new Map(versions.map((v) => [v.round, v]));
        expect(byRound.size).toBe(versions.length);
        for (const round of rounds) {
          const units = held.filter((h) => h.unit.round === round).map((h) => h.unit.unitId);
          expect(byRound.get(round)?.unitIds.sort(), `version of round ${round}`).toEqual(units.sort());
          const stored = (await store.listUpdates(jobId, round)).map((u) => u.unitId);
          expect(stored.sort(), `updates of round ${round}`).toEqual(units.sort());
        }
      } finally {
        await store.close();
      }
    } finally {
      redis.disconnect();
    }
  }, 1_800_000);
});
