/**
 * A kick asked of a process that does not own the contributor's job: the contributor's socket is
 * on the owner, and so are its leases. Two coordinators in this process share a fresh PostgreSQL
 * database and Redis; the console of the other one kicks, and by the time it answers the owner
 * has closed the socket and freed the lease (published over the Redis adapter, acknowledged).
 */
import { randomBytes } from 'node:crypto';
import {
  CONSOLE_NAMESPACE,
  CONTRIBUTOR_NAMESPACE,
  type ConsoleClientEvents,
  type ConsoleServerEvents,
  type ContributorClientEvents,
  type ContributorServerEvents,
  PROTOCOL_VERSION,
} from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../storage/postgres/test-db.ts';
import { addJob, startTestCoordinator, type TestCoordinator } from '../testing.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = 'test-admin-token';

describe('a kick asked of a process that does not own the job', () => {
  let db: TestDatabase | null = null;
  const coordinators: TestCoordinator[] = [];
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const co of coordinators) await co.destroy();
    await db?.drop();
  });

  const open = (co: TestCoordinator, namespace: string, auth?: object) => {
    const s = io(`${co.url}${namespace}`, { transports: ['websocket'], reconnection: false, auth });
    sockets.push(s);
    return s;
  };
  const connected = (s: Socket) =>
    new Promise<void>((resolve, reject) => {
      s.on('connect', resolve);
      s.on('connect_error', reject);
    });

  it('closes the socket and frees the lease on the owner before it answers', async () => {
    db = await createTestDatabase();
    const channel = `gridtab-kick-${randomBytes(6).toString('hex')}`;
    for (const port of [1, 2]) {
      coordinators.push(
        await startTestCoordinator({
          databaseUrl: db.url,
          redisUrl: REDIS_URL,
          publicUrl: `http://127.0.0.1:${port}`,
          // A channel of their own: the kick waits for every coordinator on it, and other tests
          // (and other checkouts) share this Redis.
          redisChannel: channel,
          tickMs: 1e9,
        }),
      );
    }
    const [owner, other] = coordinators;
    const job = await addJob(owner, {
      rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 600_000, leaseMs: 300_000 },
    });

    const tab: Socket<ContributorServerEvents, ContributorClientEvents> = open(owner, CONTRIBUTOR_NAMESPACE);
    await connected(tab);
    const joined = await tab.timeout(20_000).emitWithAck('contributor:join', {
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'shared_kick_client',
      backends: [{ name: 'wasm', available: true, samplesPerSec: 6000 }],
      chosenBackend: 'wasm',
      kind: 'node',
    });
    const id = joined.ok ? joined.data.contributorId : '';
    const leased = (await owner.scheduler.requestUnit(id)).unit;
    expect(leased?.jobId).toBe(job.id);
    expect((await owner.scheduler.requestUnit('someone-else')).unit).toBeNull(); // the one unit is out

    const admin: Socket<ConsoleServerEvents, ConsoleClientEvents> = open(other, CONSOLE_NAMESPACE, {
      token: ADMIN,
    });
    await connected(admin);
    const dropped = new Promise<string>((resolve) => tab.on('disconnect', resolve));
    const kicked = await admin.timeout(20_000).emitWithAck('contributor:kick', { contributorId: id });
    expect(kicked).toEqual({ ok: true, data: { sockets: 1 } });
    // Done on the owner before the answer: the unit is free there at once, not at its deadline.
    expect((await owner.scheduler.requestUnit('someone-else')).unit?.unitId).toBe(leased?.unitId);
    expect(await dropped).toBe('io server disconnect');
  });
});
