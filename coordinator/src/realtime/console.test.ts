import {
  CONSOLE_ADMIN_EVENTS,
  CONSOLE_NAMESPACE,
  CONTRIBUTOR_NAMESPACE,
  type ConsoleSnapshot,
  PROTOCOL_VERSION,
  type Result,
} from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addJob, startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';

describe('console namespace', () => {
  let co: TestCoordinator;
  const sockets: Socket[] = [];

  const open = (namespace: string, auth?: object) => {
    const s = io(`${co.url}${namespace}`, { transports: ['websocket'], reconnection: false, auth });
    sockets.push(s);
    return s;
  };
  const connect = async (token: string) => {
    const s = open(CONSOLE_NAMESPACE, { token });
    const first = new Promise<ConsoleSnapshot>((resolve) => s.once('console:snapshot', resolve));
    await new Promise<void>((resolve, reject) => {
      s.on('connect', resolve);
      s.on('connect_error', reject);
    });
    return { s, first: await first };
  };
  const ask = <T>(s: Socket, event: string, msg: unknown) =>
    s.timeout(10_000).emitWithAck(event, msg) as Promise<Result<T>>;
  const codeOf = (r: Result<unknown>) => (r.ok ? 'ok' : r.error.code);
  const state = async () => (await co.store.listJobs()).map((j) => [j.id, j.status]);

  beforeAll(async () => {
    co = await startTestCoordinator({ viewerToken: 'test-viewer-token' });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await co.destroy();
  });

  it('refuses a handshake without a valid token, with UNAUTHORIZED', async () => {
    for (const auth of [undefined, { token: 'wrong' }, { token: 42 }, { token: 'test-admin-token', x: 1 }]) {
      const s = open(CONSOLE_NAMESPACE, auth);
      const err = await new Promise<Error & { data?: { code: string } }>((resolve) =>
        s.on('connect_error', resolve),
      );
      expect(err.data?.code).toBe('UNAUTHORIZED');
    }
  });

  it('refuses every mutating event to a viewer with FORBIDDEN, changing nothing', async () => {
    const job = await addJob(co);
    const { s, first } = await connect('test-viewer-token');
    expect(first.role).toBe('viewer');
    expect(first.jobs.map((j) => j.id)).toContain(job.id);
    const before = await state();
    const messages: Record<(typeof CONSOLE_ADMIN_EVENTS)[number], unknown> = {
      'job:create': TEST_JOB,
      'job:control': { jobId: job.id, action: 'pause' },
    };
    for (const event of CONSOLE_ADMIN_EVENTS) {
      expect([event, codeOf(await ask(s, event, messages[event]))]).toEqual([event, 'FORBIDDEN']);
    }
    expect(await state()).toEqual(before);
    // Reading stays allowed.
    const versions = await ask<unknown[]>(s, 'job:versions', { jobId: job.id });
    expect(versions.ok && versions.data).toHaveLength(1);
  });

  it('lets an admin create, pause and resume jobs; bad messages store nothing', async () => {
    const { s } = await connect('test-admin-token');
    const before = await state();
    for (const [event, msg, code] of [
      ['job:create', { ...TEST_JOB, hyperparameters: { batchSize: 0 } }, 'BAD_REQUEST'],
      ['job:create', { ...TEST_JOB, dataset: 'nope' }, 'UNKNOWN_DATASET'],
      ['job:create', 'not an object', 'BAD_REQUEST'],
      ['job:control', { jobId: 'j-missing', action: 'pause' }, 'NOT_FOUND'],
      ['job:control', { jobId: 'x', action: 'explode' }, 'BAD_REQUEST'],
      ['job:versions', { jobId: 'x', extra: true }, 'BAD_REQUEST'],
    ] as const) {
      expect([event, codeOf(await ask(s, event, msg))]).toEqual([event, code]);
    }
    expect(await state()).toEqual(before);

    const created = await ask<{ id: string; status: string }>(s, 'job:create', {
      ...TEST_JOB,
      name: 'console job',
    });
    expect(created.ok && created.data.status).toBe('running');
    const id = created.ok ? created.data.id : '';
    const next = new Promise<ConsoleSnapshot>((resolve) => s.once('console:snapshot', resolve));
    const paused = await ask<{ status: string }>(s, 'job:control', { jobId: id, action: 'pause' });
    expect(paused.ok && paused.data.status).toBe('paused');
    expect((await next).jobs.find((j) => j.id === id)?.status).toBe('paused');
    expect((await co.store.getJob(id))?.status).toBe('paused');
    const resumed = await ask<{ status: string }>(s, 'job:control', { jobId: id, action: 'resume' });
    expect(resumed.ok && resumed.data.status).toBe('running');
  });

  it('shows a contributor online with its reported throughput', async () => {
    const { s } = await connect('test-viewer-token');
    const tab = open(CONTRIBUTOR_NAMESPACE);
    const joined = await ask<{ contributorId: string }>(tab, 'contributor:join', {
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'console_test_client',
      backends: [{ name: 'cpu', available: true, samplesPerSec: 100 }],
      chosenBackend: 'cpu',
      kind: 'node',
    });
    const id = joined.ok ? joined.data.contributorId : '';
    tab.emit('contributor:progress', { samplesPerSec: 250, loss: 1, unitsDone: 0 });
    // Snapshots arrive every second; wait for one that has seen the progress message.
    const seen = await new Promise<ConsoleSnapshot>((resolve) => {
      const check = (snap: ConsoleSnapshot) => {
        if (snap.samplesPerSec > 0) {
          s.off('console:snapshot', check);
          resolve(snap);
        }
      };
      s.on('console:snapshot', check);
    });
    expect(seen.contributorsOnline).toBe(1);
    expect(seen.samplesPerSec).toBe(250);
    expect(seen.contributors.find((c) => c.id === id)).toMatchObject({ online: true, backend: 'cpu' });
  });

  it('stops a revoked token from acting on an open socket', async () => {
    const { record, token } = await co.tokens.create('admin', 'temporary', new Date().toISOString());
    const { s } = await connect(token);
    const job = await addJob(co);
    await co.store.revokeToken(record.id, new Date().toISOString());
    expect(codeOf(await ask(s, 'job:control', { jobId: job.id, action: 'pause' }))).toBe('UNAUTHORIZED');
    expect((await co.store.getJob(job.id))?.status).toBe('running');
  });
});
