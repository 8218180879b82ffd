/**
 * POST /api/contributors/{id}/release-quarantine: admin only, 404 for an unknown contributor,
 * a no-op answer for one that is not quarantined, and for a quarantined one a release that lets
 * its socket get units again, back on probation with its past checks kept and an audit line.
 */
import {
  ask,
  CONTRIBUTOR_NAMESPACE,
  type ContributorClientEvents,
  type ContributorServerEvents,
  PROTOCOL_VERSION,
  type Result,
} from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRate } from '../reputation/policy.ts';
import { addJob, startTestCoordinator, type TestCoordinator } from '../testing.ts';

/** A tab: a socket typed by the contributor event maps in shared/. */
type ContributorSocket = Socket<ContributorServerEvents, ContributorClientEvents>;

describe('releasing a quarantine over HTTP', () => {
  let co: TestCoordinator;
  const logged: string[] = [];
  const sockets: ContributorSocket[] = [];
  const release = (id: string, token: string | null = 'test-admin-token') =>
    fetch(`${co.url}/api/contributors/${encodeURIComponent(id)}/release-quarantine`, {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  const request = (s: ContributorSocket) => ask(s, 10_000, (x) => x.emitWithAck('unit:request', {}));
  const joined = async (): Promise<{ socket: ContributorSocket; id: string }> => {
    const socket: ContributorSocket = io(`${co.url}${CONTRIBUTOR_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.on('connect', resolve);
      socket.on('connect_error', reject);
    });
    const r = await ask(socket, 10_000, (x) =>
      x.emitWithAck('contributor:join', {
        protocolVersion: PROTOCOL_VERSION,
        clientId: `client_${Math.random().toString(36).slice(2, 12)}`,
        backends: [{ name: 'cpu', available: true, samplesPerSec: 100 }],
        chosenBackend: 'cpu',
        kind: 'node',
      }),
    );
    if (!r.ok) throw new Error(r.error.code);
    return { socket, id: r.data.contributorId };
  };
  const codeOf = (r: Result<unknown>) => (r.ok ? 'ok' : r.error.code);
  /** Quarantined the way a failed spot-check leaves it: one failed check, then the flag. */
  const quarantine = async (contributorId: string) => {
    await co.store.reputation.recordCheck({
      updateId: `upd-${contributorId}`,
      jobId: 'j-old',
      round: 1,
      unitId: 'j-old.r1.u0',
      contributorId,
      backend: 'cpu',
      passed: false,
      distance: 1,
      replicaHash: 'c'.repeat(64),
      createdAt: '2026-11-24T00:00:00Z',
    });
    await co.store.reputation.setQuarantined(contributorId, true, '2026-11-24T00:00:01Z');
  };

  beforeAll(async () => {
    co = await startTestCoordinator({ viewerToken: 'test-viewer-token' }, { log: (m) => logged.push(m) });
    await addJob(co, { rounds: { unitsPerRound: 20, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 } });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await co.destroy();
  });

  it('is for admins only and changes nothing otherwise', async () => {
    const { id } = await joined();
    await quarantine(id);
    for (const [token, status, code] of [
      [null, 401, 'UNAUTHORIZED'],
      ['not-a-token', 401, 'UNAUTHORIZED'],
      ['test-viewer-token', 403, 'FORBIDDEN'],
    ] as const) {
      const res = await release(id, token);
      expect([token, res.status, (await res.json()).error.code]).toEqual([token, status, code]);
    }
    expect(await co.store.reputation.getReputation(id)).toMatchObject({ quarantined: true, checksFailed: 1 });
  });

  it('answers 404 for an unknown contributor and 400 for a malformed id, storing nothing', async () => {
    const unknown = await release('c-nobody');
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('NOT_FOUND');
    const long = await release('x'.repeat(101));
    expect(long.status).toBe(400);
    expect((await long.json()).error.code).toBe('BAD_REQUEST');
    expect(await co.store.reputation.getReputation('c-nobody')).toBeNull();
  });

  it('leaves a contributor that is not quarantined as it is', async () => {
    const { id } = await joined();
    const res = await release(id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id, released: false });
    expect(await co.store.reputation.getReputation(id)).toBeNull();
    expect(logged.some((m) => m.includes(`${id} released`))).toBe(false);
  });

  it('lets a quarantined contributor request units again, on probation, keeping its checks', async () => {
    const { socket, id } = await joined();
    await quarantine(id);
    expect(codeOf(await request(socket))).toBe('QUARANTINED');

    const res = await release(id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id,
      released: true,
      reputation: 0.5,
      checks: { passed: 0, failed: 0 },
      quarantined: false,
    });
    const offer = await request(socket);
    expect(offer.ok && offer.data.unit?.unitId).toMatch(/\.u\d+$/);
    // Probation: every unit it sends is checked again, as for a new contributor.
    expect(checkRate(await co.store.reputation.getReputation(id))).toBe(1);
    expect(
      (await co.store.reputation.listChecks('j-old', 1)).map((c) => [c.contributorId, c.passed]),
    ).toContainEqual([id, false]);
    expect(logged).toContainEqual(
      `contributor ${id} released from quarantine by an admin (0 passed, 1 failed); back on probation`,
    );
    // A second release finds nothing to lift.
    expect(await (await release(id)).json()).toMatchObject({ released: false, quarantined: false });

    const listed = (await (await fetch(`${co.url}/api/contributors`)).json()) as { id: string }[];
    expect(listed.find((c) => c.id === id)).toMatchObject({
      quarantined: false,
      checks: { passed: 0, failed: 0 },
    });
    const doc = await (await fetch(`${co.url}/api/openapi.json`)).json();
    expect(doc.paths['/contributors/{id}/release-quarantine'].post.security).toEqual([{ bearer: [] }]);
  });
});
