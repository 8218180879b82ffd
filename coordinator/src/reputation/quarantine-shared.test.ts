/**
 * Two coordinator instances on one PostgreSQL database (as with DATABASE_URL and several
 * processes): a quarantine written through the first one's store reaches the second within its
 * TTL, and so does a release made through the first one's API. A manual clock moves the TTL, so
 * nothing waits on real time.
 */
import { GridTabError } from '@gridtab/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { createTestDatabase, type TestDatabase } from '../storage/postgres/test-db.ts';
import { addJob, startTestCoordinator, type TestCoordinator } from '../testing.ts';
import { QUARANTINE_TTL_MS } from './spot-check.ts';

describe('quarantine shared by coordinators on one PostgreSQL database', () => {
  let db: TestDatabase;
  let a: TestCoordinator;
  let b: TestCoordinator;
  const clock = new ManualClock(Date.parse('2026-11-25T00:00:00Z'));

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestCoordinator({ databaseUrl: db.url }, { clock });
    b = await startTestCoordinator({ databaseUrl: db.url }, { clock });
  });
  afterAll(async () => {
    await b?.destroy();
    await a?.destroy();
    await db?.drop();
  });

  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e) => (e instanceof GridTabError ? e.code : String(e)),
    );

  it('reaches the other instance within the TTL, both ways', async () => {
    const { id } = await a.store.upsertContributor(
      'client_shared01',
      'cpu',
      new Date(clock.now()).toISOString(),
    );
    await addJob(b, { rounds: { unitsPerRound: 20, quorum: 1, deadlineMs: 600_000, leaseMs: 300_000 } });
    expect(await b.spotChecks.isQuarantined(id)).toBe(false); // b has now read (and keeps) "no record"

    // A failed check and the quarantine, as the first instance's spot-check writes them.
    await a.store.reputation.recordCheck({
      updateId: 'upd-shared',
      jobId: 'j-elsewhere',
      round: 1,
      unitId: 'j-elsewhere.r1.u0',
      contributorId: id,
      backend: 'cpu',
      passed: false,
      distance: 1,
      replicaHash: 'd'.repeat(64),
      createdAt: new Date(clock.now()).toISOString(),
    });
    await a.store.reputation.setQuarantined(id, true, new Date(clock.now()).toISOString());

    // Within the TTL b answers from what it read (no round trip per request)...
    clock.advance(QUARANTINE_TTL_MS - 1);
    expect(await b.spotChecks.isQuarantined(id)).toBe(false);
    // ...and once it has passed, from the store.
    clock.advance(1);
    expect(await codeOf(b.scheduler.requestUnit(id))).toBe('QUARANTINED');
    expect(await b.spotChecks.isQuarantined(id)).toBe(true);
    // What b's API and console show is read from the store, whatever its cache holds.
    const listed = (await (await fetch(`${b.url}/api/contributors`)).json()) as { id: string }[];
    expect(listed.find((c) => c.id === id)).toMatchObject({ quarantined: true, checks: { failed: 1 } });

    // An admin releases it through a's API: a knows at once, b within the TTL.
    const res = await fetch(`${a.url}/api/contributors/${id}/release-quarantine`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token' },
    });
    expect(await res.json()).toMatchObject({ id, released: true, quarantined: false });
    expect(await a.spotChecks.isQuarantined(id)).toBe(false);
    expect(await b.spotChecks.isQuarantined(id)).toBe(true);
    clock.advance(QUARANTINE_TTL_MS);
    const offer = await b.scheduler.requestUnit(id);
    expect(offer.unit?.unitId).toMatch(/\.u\d+$/);
  });
});
