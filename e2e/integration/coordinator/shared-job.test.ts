/**
 * One job across two processes (issue 17 part 3): two coordinators share a fresh PostgreSQL
 * database and Redis, and two Node contributors are connected to each, each knowing only its
 * own process (so none is sent to the owner). Every contributor trains units of the one job:
 * the owner's tabs as always, the other process's tabs with units the owner leased over the job
 * bus, their updates stored and summed by the other process, whose partial sums the owner adds
 * when a round closes. Checked at the end: updates were acknowledged by both processes; every
 * round has one version, holding exactly the round's stored updates, each unit once; its weights
 * are the batch weighted mean of those updates on the parent (to within one float32 rounding
 * step, from the float64 summation order); and the owner did combine partial sums.
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
import { openStorage } from '../../../coordinator/src/storage/open.ts';
import { createTestDatabase, type TestDatabase } from '../../../coordinator/src/storage/postgres/test-db.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = 'shared-job-admin';
const ROUNDS = 4;

const floats = (bytes: Uint8Array) => {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
};

describe('one job across two processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-shared-job-'));
  const children: ChildProcess[] = [];
  const output = new Map<string, string>();
  let contributors: Contributor[] = [];
  let db: TestDatabase | null = null;
  afterAll(async () => {
    for (const c of contributors) await c.stop();
    for (const c of children) c.kill('SIGKILL');
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (url: string, databaseUrl: string, channel: string) => {
    const port = new URL(url).port;
    const proc = await spawnCoordinator(url, Number(port), {
      DATA_DIR: join(dir, port),
      FASHION_MNIST_DIR: dir,
      ADMIN_TOKEN: ADMIN,
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      // Its own channels: other tests' coordinators on the same Redis are not asked for sums.
      GRIDTAB_REDIS_CHANNEL: channel,
      GRIDTAB_PUBLIC_URL: url,
      // Long enough that a loaded machine's stalls (a version's evaluation) keep the owner: this
      // test is about one owner and another process, not a failover.
      GRIDTAB_OWNER_TTL_MS: '10000',
      // Every update's blob stays, so the test can redo each round's mean from them.
      GRIDTAB_RETAIN_UPDATES: 'keep',
    });
    output.set(url, '');
    const keep = (d: Buffer) => output.set(url, output.get(url) + String(d));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    children.push(proc);
  };

  it('takes updates in at both, and each version is the mean of its round, nothing twice', async () => {
    writeSyntheticDataset(dir);
    db = await createTestDatabase();
    const channel = `gridtab-shared-job-${process.pid}-${Date.now()}`;
    const urls = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    for (const url of urls) await start(url, db.url, channel);

    const created = await fetch(`${urls[0]}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        jobSpecSchema.parse({
          ...TEST_JOB,
          rounds: { unitsPerRound: 4, quorum: 1, deadlineMs: 300_000, leaseMs: 120_000 },
          stopping: { maxRounds: ROUNDS },
        }),
      ),
    });
    expect(created.status).toBe(201);
    const jobId = ((await created.json()) as { id: string }).id;
    const redis = new Redis(REDIS_URL);
    const ownerUrl = async () => (await redis.get(`gridtab:owner:${jobId}`))?.split(' ')[1] ?? null;
    await expect.poll(ownerUrl, { timeout: 60_000, interval: 200 }).not.toBeNull();
    const owner = (await ownerUrl())!;
    redis.disconnect();
    expect(urls).toContain(owner);

    // Units acknowledged, by the process that acknowledged them.
    const acked = new Map<string, string[]>(urls.map((u) => [u, []]));
    const refused: string[] = [];
    contributors = [0, 1, 2, 3].map((i) => {
      const url = urls[i % 2];
      return createNodeContributor({
        coordinatorUrl: [url],
        benchmarkMs: 50,
        behaviour: {
          submit: async ({ unit, send }) => {
            const ack = await send();
            if (ack.ok && ack.data.accepted) acked.get(url)!.push(unit.unitId);
            else
              refused.push(
                `${url === owner ? 'owner' : 'other'}: ${ack.ok ? 'not accepted' : ack.error.code}`,
              );
            return ack;
          },
        },
      });
    });
    for (const c of contributors) await c.start();

    await expect
      .poll(
        async () => {
          const res = await fetch(`${urls[0]}/api/jobs/${jobId}`);
          return ((await res.json()) as { status: string }).status;
        },
        { timeout: 600_000, interval: 500 },
      )
      .toBe('completed');
    for (const c of contributors) await c.stop();
    contributors = [];

    const other = urls.find((u) => u !== owner)!;
    expect(acked.get(owner)!.length, 'updates acknowledged by the owner').toBeGreaterThan(0);
    expect(acked.get(other)!.length, 'updates acknowledged by the other process').toBeGreaterThan(0);
    const ackedAll = [...acked.values()].flat();
    expect(new Set(ackedAll).size, 'each unit acknowledged once').toBe(ackedAll.length);

    const { store, blobs } = await openStorage({ dataDir: dir, databaseUrl: db.url });
    try {
      const versions = (await store.listVersions(jobId)).filter((v) => v.round > 0);
      const rounds = versions.map((v) => v.round).sort((a, b) => a - b);
      expect(rounds).toEqual(Array.from({ length: ROUNDS }, (_, i) => i + 1));
      const storedAll: string[] = [];
      for (const version of versions) {
        const updates = await store.listUpdates(jobId, version.round);
        const units = updates.map((u) => u.unitId);
        storedAll.push(...units);
        expect(new Set(units).size, `round ${version.round}: each unit once`).toBe(units.length);
        expect([...version.unitIds].sort(), `version of round ${version.round}`).toEqual([...units].sort());
        // The batch weighted mean on the parent, in float64, cast once to float32.
        const parent = (await store.getVersion(version.parentId!))!;
        const base = floats((await blobs.get(parent.hash))!);
        const sum = new Float64Array(base.length);
        let total = 0;
        for (const u of updates) {
          const delta = floats((await blobs.get(u.blobHash))!);
          for (let i = 0; i < sum.length; i++) sum[i] += u.numSamples * delta[i];
          total += u.numSamples;
        }
        const weights = floats((await blobs.get(version.hash))!);
        let worst = 0;
        for (let i = 0; i < base.length; i++) {
          const mean = Math.fround(base[i] + sum[i] / total);
          // One float32 step at most: the sums differ only in float64 rounding.
          const ulp = Math.max(Math.abs(mean) * 2 ** -23, 2 ** -149);
          worst = Math.max(worst, Math.abs(weights[i] - mean) / ulp);
        }
        expect(
          worst,
          `round ${version.round}: distance to the batch mean, in float32 steps`,
        ).toBeLessThanOrEqual(1);
      }
      // Every acknowledged update is stored, and counted in its round's version.
      for (const unit of ackedAll) expect(storedAll).toContain(unit);
    } finally {
      await store.close();
    }
    // The versions above are right whichever way they were made; this is that partial sums were
    // combined (a round can still go to batch when the machine stalls past the flush timeout).
    const logs = [...output.values()].join('');
    expect(logs, 'an owner combined partial sums').toMatch(/[1-9] partial sums combined/);
    console.info(`refused: ${refused.length ? refused.join(', ') : 'none'}`);
    console.info(
      `rounds made with partial sums: ${logs.match(/partial sums combined/g)?.length ?? 0} of ${ROUNDS}`,
    );
  }, 900_000);
});
