/**
 * Spot-checks end to end: a coordinator with simulated contributors (the real runtime in Node),
 * one honest and one lazy. The lazy one is checked on its first unit (probation), fails, is
 * quarantined and refused; its accepted update is replaced by the coordinator's replica at round
 * close; the honest one passes every check. Reputation shows in GET /api/contributors, and the
 * quarantine survives a restart (it is read back from the store).
 */
import { join } from 'node:path';
import { type SimContributor, simContributor } from '@gridtab/client/sim';
import { addJob, startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import { afterEach, describe, expect, it } from 'vitest';
import { WeightedMean } from '../../../coordinator/src/aggregation/weighted-mean.ts';
import { systemClock } from '../../../coordinator/src/clock.ts';
import { TfRecomputer } from '../../../coordinator/src/reputation/recompute.ts';
import { SpotChecks } from '../../../coordinator/src/reputation/spot-check.ts';
import { SqliteStore } from '../../../coordinator/src/storage/sqlite-store.ts';

describe('spot-checks', () => {
  let co: TestCoordinator | null = null;
  let sims: SimContributor[] = [];
  afterEach(async () => {
    for (const s of sims) await s.contributor.stop();
    sims = [];
    await co?.destroy();
    co = null;
  });

  it('catch a lazy contributor, quarantine it and keep its update out of aggregation', async () => {
    co = await startTestCoordinator();
    const job = await addJob(co, {
      rounds: { unitsPerRound: 2, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 },
      stopping: { maxRounds: 4 },
      spotChecks: { minRate: 0.1 },
    });
    const lazy = simContributor({ coordinatorUrl: co.url, attack: 'lazy' });
    const honest = simContributor({ coordinatorUrl: co.url });
    sims = [lazy, honest];
    await lazy.contributor.start();
    await expect.poll(() => lazy.attacked.length, { timeout: 60_000, interval: 100 }).toBeGreaterThan(0);
    await honest.contributor.start();
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 120_000, interval: 250 })
      .toBe('completed');
    await co.scheduler.idle();

    const lazyId = lazy.contributor.state.contributorId!;
    const honestId = honest.contributor.state.contributorId!;
    expect(await co.spotChecks.isQuarantined(lazyId)).toBe(true);
    expect(await co.spotChecks.isQuarantined(honestId)).toBe(false);
    expect(lazy.contributor.state.lastError).toContain('QUARANTINED');
    expect(lazy.attacked.filter((a) => a === 'ok').length).toBeLessThanOrEqual(2); // at most its first leases

    // Every version is base + FedAvg of the screened updates: the lazy one replaced by the replica.
    const versions = await co.store.listVersions(job.id);
    let replaced = 0;
    for (const v of versions.slice(1)) {
      const updates = await co.store.listUpdates(job.id, v.round);
      const checks = new Map(
        (await co.store.reputation.listChecks(job.id, v.round)).map((c) => [c.updateId, c]),
      );
      const inputs = [];
      for (const u of updates) {
        const check = checks.get(u.id);
        if (u.contributorId === lazyId) {
          expect(check?.passed, `lazy update in round ${v.round}`).toBe(false);
          expect(check!.distance).toBe(1);
          replaced++;
        } else {
          expect(check?.passed ?? true).toBe(true); // honest: every check passes
        }
        const hash = check && !check.passed ? check.replicaHash : u.blobHash;
        inputs.push({ delta: bytesToFloat32((await co.blobs.get(hash))!), numSamples: u.numSamples });
      }
      const parent = versions.find((p) => p.id === v.parentId)!;
      const expected = new WeightedMean().aggregate(
        bytesToFloat32((await co.blobs.get(parent.hash))!),
        inputs,
      );
      expect(Array.from(bytesToFloat32((await co.blobs.get(v.hash))!))).toEqual(Array.from(expected));
    }
    expect(replaced).toBeGreaterThanOrEqual(1);

    const res = await fetch(`${co.url}/api/contributors`, {
      headers: { authorization: 'Bearer test-admin-token' },
    });
    const list = (await res.json()) as {
      id: string;
      reputation?: number;
      checks?: unknown;
      quarantined?: boolean;
    }[];
    const byId = new Map(list.map((c) => [c.id, c]));
    // Its updates accepted before the first check finished are checked too (it was on probation).
    expect(byId.get(lazyId)).toMatchObject({ quarantined: true, checks: { passed: 0, failed: replaced } });
    expect(byId.get(lazyId)!.reputation).toBeLessThan(0.25);
    expect(byId.get(honestId)).toMatchObject({ quarantined: false, checks: { failed: 0 } });
    expect(byId.get(honestId)!.reputation).toBeGreaterThan(0.5);

    // A restarted coordinator reads the quarantine back.
    const store = new SqliteStore(join(co.dir, 'restart.sqlite'));
    await store.reputation.setQuarantined('c-x', true, new Date().toISOString());
    const reloaded = new SpotChecks({
      store,
      blobs: co.blobs,
      clock: systemClock,
      recomputer: new TfRecomputer(),
      log: () => {},
    });
    await reloaded.init();
    expect(await reloaded.isQuarantined('c-x')).toBe(true);
    expect((await reloaded.views()).get('c-x')).toMatchObject({
      quarantined: true,
      checks: { passed: 0, failed: 0 },
    });
    store.close();
  }, 180_000);
});
