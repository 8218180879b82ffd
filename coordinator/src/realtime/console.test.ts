import {
  ask,
  CONSOLE_ADMIN_EVENTS,
  CONSOLE_NAMESPACE,
  CONTRIBUTOR_NAMESPACE,
  type ConsoleClientEvents,
  type ConsoleServerEvents,
  type ConsoleSnapshot,
  type ContributorClientEvents,
  type ContributorServerEvents,
  type JoinMessage,
  PROTOCOL_VERSION,
  type Result,
} from '@gridtab/shared';
import { io, Manager, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitVersion } from '../registry/testing.ts';
import { addJob, startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';

const ACK_MS = 10_000;
/** What the console page and a tab are: sockets typed by the event maps in shared/. */
type ConsoleSocket = Socket<ConsoleServerEvents, ConsoleClientEvents>;
type ContributorSocket = Socket<ContributorServerEvents, ContributorClientEvents>;

describe('console namespace', () => {
  let co: TestCoordinator;
  const sockets: { disconnect(): unknown }[] = [];

  const open = (namespace: string, auth?: object) => {
    const s = io(`${co.url}${namespace}`, { transports: ['websocket'], reconnection: false, auth });
    sockets.push(s);
    return s;
  };
  /** `s` speaks the console's event map; `raw` is the same socket for what no map allows. */
  const connect = async (token: string) => {
    const raw = open(CONSOLE_NAMESPACE, { token });
    const s: ConsoleSocket = raw;
    const first = new Promise<ConsoleSnapshot>((resolve) => s.once('console:snapshot', resolve));
    await new Promise<void>((resolve, reject) => {
      s.on('connect', resolve);
      s.on('connect_error', reject);
    });
    return { s, raw, first: await first };
  };
  /** A message by event name, malformed ones included, as a broken or hostile page may send. */
  const send = (s: Socket, event: string, msg: unknown): Promise<Result<unknown>> =>
    ask(s, ACK_MS, (x) => x.emitWithAck(event, msg));
  const joinTab = (tab: ContributorSocket, join: JoinMessage) =>
    ask(tab, ACK_MS, (x) => x.emitWithAck('contributor:join', join));
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
    const { s, raw, first } = await connect('test-viewer-token');
    expect(first.role).toBe('viewer');
    expect(first.jobs.map((j) => j.id)).toContain(job.id);
    const before = await state();
    const messages: Record<(typeof CONSOLE_ADMIN_EVENTS)[number], unknown> = {
      'job:create': TEST_JOB,
      'job:control': { jobId: job.id, action: 'pause' },
      'contributor:kick': { contributorId: 'c-anyone' },
      'contributor:ban': { contributorId: 'c-anyone', reason: 'x' },
      'contributor:unban': { contributorId: 'c-anyone' },
    };
    for (const event of CONSOLE_ADMIN_EVENTS) {
      expect([event, codeOf(await send(raw, event, messages[event]))]).toEqual([event, 'FORBIDDEN']);
    }
    expect(await state()).toEqual(before);
    expect(await co.store.listBans()).toEqual([]);
    // Reading stays allowed.
    const stats = await ask(s, ACK_MS, (x) => x.emitWithAck('job:stats', { jobId: job.id }));
    expect(stats.ok && stats.data.rounds).toEqual([]);
    const versions = await ask(s, ACK_MS, (x) => x.emitWithAck('job:versions', { jobId: job.id }));
    expect(versions.ok && versions.data).toHaveLength(1);
  });

  it('lets an admin create, pause and resume jobs; bad messages store nothing', async () => {
    const { s, raw } = await connect('test-admin-token');
    const before = await state();
    for (const [event, msg, code] of [
      ['job:create', { ...TEST_JOB, hyperparameters: { batchSize: 0 } }, 'BAD_REQUEST'],
      ['job:create', { ...TEST_JOB, dataset: 'nope' }, 'UNKNOWN_DATASET'],
      ['job:create', 'not an object', 'BAD_REQUEST'],
      ['job:control', { jobId: 'j-missing', action: 'pause' }, 'NOT_FOUND'],
      ['job:control', { jobId: 'x', action: 'explode' }, 'BAD_REQUEST'],
      ['job:versions', { jobId: 'x', extra: true }, 'BAD_REQUEST'],
    ] as const) {
      expect([event, codeOf(await send(raw, event, msg))]).toEqual([event, code]);
    }
    expect(await state()).toEqual(before);

    const created = await ask(s, ACK_MS, (x) =>
      x.emitWithAck('job:create', { ...TEST_JOB, name: 'console job' }),
    );
    expect(created.ok && created.data.status).toBe('running');
    const id = created.ok ? created.data.id : '';
    const next = new Promise<ConsoleSnapshot>((resolve) => s.once('console:snapshot', resolve));
    const paused = await ask(s, ACK_MS, (x) => x.emitWithAck('job:control', { jobId: id, action: 'pause' }));
    expect(paused.ok && paused.data.status).toBe('paused');
    expect((await next).jobs.find((j) => j.id === id)?.status).toBe('paused');
    expect((await co.store.getJob(id))?.status).toBe('paused');
    const resumed = await ask(s, ACK_MS, (x) =>
      x.emitWithAck('job:control', { jobId: id, action: 'resume' }),
    );
    expect(resumed.ok && resumed.data.status).toBe('running');
  });

  it('shows a contributor online with its reported throughput', async () => {
    const { s } = await connect('test-viewer-token');
    const tab: ContributorSocket = open(CONTRIBUTOR_NAMESPACE);
    const joined = await joinTab(tab, {
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

  it("shows the backend scores and choice a contributor's progress reports, after its join's", async () => {
    const { s } = await connect('test-viewer-token');
    const tab: ContributorSocket = open(CONTRIBUTOR_NAMESPACE);
    const joined = await joinTab(tab, {
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'console_scores_client',
      backends: [
        { name: 'wasm', available: true, samplesPerSec: 900 },
        { name: 'cpu', available: true, samplesPerSec: 100 },
      ],
      chosenBackend: 'wasm',
      kind: 'node',
    });
    const id = joined.ok ? joined.data.contributorId : '';
    // The job's CNN measured: wasm cannot train it, cpu can.
    const measured = [
      { name: 'wasm' as const, available: false, samplesPerSec: 0, error: 'no Conv2DBackpropFilter' },
      { name: 'cpu' as const, available: true, samplesPerSec: 40 },
    ];
    tab.emit('contributor:progress', {
      samplesPerSec: 40,
      loss: 2,
      unitsDone: 1,
      backends: measured,
      chosenBackend: 'cpu',
    });
    const row = await new Promise<ConsoleSnapshot['contributors'][number]>((resolve) => {
      const check = (snap: ConsoleSnapshot) => {
        const c = snap.contributors.find((x) => x.id === id);
        if (c?.device?.chosenBackend === 'cpu') {
          s.off('console:snapshot', check);
          resolve(c);
        }
      };
      s.on('console:snapshot', check);
    });
    expect(row.device?.backends).toEqual(
      measured.map(({ name, available, samplesPerSec }) => ({ name, available, samplesPerSec })),
    );
  });

  it('drops a progress message whose scores are malformed, keeping the join scores', async () => {
    const { s } = await connect('test-viewer-token');
    // `raw` sends what the contributor's event map does not allow; `tab` is the same socket.
    const raw = open(CONTRIBUTOR_NAMESPACE);
    const tab: ContributorSocket = raw;
    const joined = await joinTab(tab, {
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'console_bad_scores_client',
      backends: [{ name: 'cpu', available: true, samplesPerSec: 100 }],
      chosenBackend: 'cpu',
      kind: 'node',
    });
    const id = joined.ok ? joined.data.contributorId : '';
    raw.emit('contributor:progress', {
      samplesPerSec: 1,
      loss: 1,
      unitsDone: 0,
      backends: [{ name: 'quantum', available: true, samplesPerSec: 1e12 }],
      chosenBackend: 'quantum',
    });
    // A valid message after it, so a snapshot that has seen both can be awaited.
    tab.emit('contributor:progress', { samplesPerSec: 7, loss: 1, unitsDone: 0 });
    const row = await new Promise<ConsoleSnapshot['contributors'][number]>((resolve) => {
      const check = (snap: ConsoleSnapshot) => {
        const c = snap.contributors.find((x) => x.id === id);
        if (c && c.samplesPerSec === 7) {
          s.off('console:snapshot', check);
          resolve(c);
        }
      };
      s.on('console:snapshot', check);
    });
    expect(row.device).toMatchObject({
      chosenBackend: 'cpu',
      backends: [{ name: 'cpu', available: true, samplesPerSec: 100 }],
    });
  });

  it('refuses malformed contributor and stats messages with a code, storing nothing', async () => {
    const { s, raw } = await connect('test-admin-token');
    for (const [event, msg, code] of [
      ['contributor:kick', {}, 'BAD_REQUEST'],
      ['contributor:kick', { contributorId: '' }, 'BAD_REQUEST'],
      ['contributor:kick', { contributorId: 'c-nobody' }, 'NOT_FOUND'],
      ['contributor:ban', { contributorId: 'c-nobody', reason: 7 }, 'BAD_REQUEST'],
      ['contributor:ban', { contributorId: 'c-nobody', extra: 1 }, 'BAD_REQUEST'],
      ['contributor:ban', { contributorId: 'c-nobody' }, 'NOT_FOUND'],
      ['contributor:unban', 'c-nobody', 'BAD_REQUEST'],
      ['job:stats', { jobId: 'j-missing' }, 'NOT_FOUND'],
      ['job:stats', { jobId: 'x', extra: true }, 'BAD_REQUEST'],
    ] as const) {
      expect([event, codeOf(await send(raw, event, msg))]).toEqual([event, code]);
    }
    expect(await co.store.listBans()).toEqual([]);
    const unban = await ask(s, ACK_MS, (x) =>
      x.emitWithAck('contributor:unban', { contributorId: 'c-nobody' }),
    );
    expect(unban.ok && unban.data.unbanned).toBe(false);
  });

  it('kicks a contributor (socket dropped), bans it (join refused, kept in the store) and unbans it', async () => {
    const { s } = await connect('test-admin-token');
    const join: JoinMessage = {
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'kick_test_client',
      backends: [{ name: 'wasm', available: true, samplesPerSec: 6000 }],
      chosenBackend: 'wasm',
      kind: 'node',
    };
    const newTab = async () => {
      const tab: ContributorSocket = open(CONTRIBUTOR_NAMESPACE);
      await new Promise<void>((resolve) => tab.on('connect', resolve));
      return { tab, joined: await joinTab(tab, join) };
    };
    const first = await newTab();
    const id = first.joined.ok ? first.joined.data.contributorId : '';
    const snap = await ask(s, ACK_MS, (x) => x.emitWithAck('console:snapshot', {}));
    expect(snap.ok && snap.data.contributors.find((c) => c.id === id)).toMatchObject({
      online: true,
      banned: false,
      device: { kind: 'node', backends: [{ name: 'wasm', samplesPerSec: 6000 }] },
    });

    const dropped = new Promise<string>((resolve) => first.tab.on('disconnect', resolve));
    const kicked = await ask(s, ACK_MS, (x) => x.emitWithAck('contributor:kick', { contributorId: id }));
    expect(kicked.ok && kicked.data.sockets).toBe(1);
    expect(await dropped).toBe('io server disconnect');
    // Only the contributor's namespace socket closes, not the connection it shares with the console.
    expect(s.connected).toBe(true);

    const second = await newTab();
    expect(second.joined.ok).toBe(true);
    const gone = new Promise<string>((resolve) => second.tab.on('disconnect', resolve));
    const banned = await ask(s, ACK_MS, (x) =>
      x.emitWithAck('contributor:ban', { contributorId: id, reason: 'spam' }),
    );
    expect(banned.ok && banned.data.sockets).toBe(1);
    await gone;
    expect(await co.store.getBan(id)).toMatchObject({ contributorId: id, reason: 'spam' });
    const refused = await newTab();
    expect(!refused.joined.ok && refused.joined.error).toMatchObject({ code: 'CONTRIBUTOR_BANNED' });
    expect(!refused.joined.ok && refused.joined.error.message).toContain('spam');
    const after = await ask(s, ACK_MS, (x) => x.emitWithAck('console:snapshot', {}));
    expect(after.ok && after.data.contributors.find((c) => c.id === id)?.banned).toBe(true);

    const unbanned = await ask(s, ACK_MS, (x) => x.emitWithAck('contributor:unban', { contributorId: id }));
    expect(unbanned.ok && unbanned.data.unbanned).toBe(true);
    expect((await newTab()).joined.ok).toBe(true);
  });

  it('answers job:stats with participation per round and refusals by code', async () => {
    const { s } = await connect('test-viewer-token');
    const job = await addJob(co);
    const version = await commitVersion(co, job.id, 0.5);
    for (const [i, contributorId] of ['c-one', 'c-two'].entries())
      await co.store.insertUpdate({
        id: `u-stats-${i}`,
        jobId: job.id,
        round: version.round,
        unitId: i === 0 ? version.unitIds[0] : `${job.id}.r${version.round}.u9`,
        contributorId,
        baseVersionId: version.parentId!,
        numSamples: 100,
        loss: 1,
        blobHash: version.hash,
        createdAt: version.createdAt,
      });
    co.outcomes.rejected('NORM_TOO_LARGE', job.id);
    co.outcomes.rejected('NORM_TOO_LARGE', job.id);
    co.outcomes.rejected('STALE_VERSION', 'j-other');
    const stats = await ask(s, ACK_MS, (x) => x.emitWithAck('job:stats', { jobId: job.id }));
    expect(stats.ok && stats.data).toMatchObject({
      jobId: job.id,
      // Only the update whose unit went into the version counts as participation.
      rounds: [
        { round: 1, versionId: version.id, units: 1, contributors: 1, samples: 100, testAccuracy: 0.5 },
      ],
      rejected: { NORM_TOO_LARGE: 2 },
    });
  });

  it('kicks only the contributor socket, not a console sharing its connection', async () => {
    // One Manager is one connection; socket.io multiplexes both namespaces over it.
    const manager = new Manager(co.url, { transports: ['websocket'], reconnection: false });
    const admin: ConsoleSocket = manager.socket(CONSOLE_NAMESPACE, { auth: { token: 'test-admin-token' } });
    const tab: ContributorSocket = manager.socket(CONTRIBUTOR_NAMESPACE);
    sockets.push(admin, tab);
    await Promise.all([admin, tab].map((s) => new Promise<void>((resolve) => s.on('connect', resolve))));
    const joined = await joinTab(tab, {
      protocolVersion: PROTOCOL_VERSION,
      clientId: 'shared_connection_client',
      backends: [],
      chosenBackend: 'cpu',
      kind: 'node',
    });
    const dropped = new Promise<string>((resolve) => tab.on('disconnect', resolve));
    const kicked = await ask(admin, ACK_MS, (x) =>
      x.emitWithAck('contributor:kick', { contributorId: joined.ok ? joined.data.contributorId : '' }),
    );
    expect(kicked.ok && kicked.data.sockets).toBe(1);
    expect(await dropped).toBe('io server disconnect');
    const after = await ask(admin, ACK_MS, (x) => x.emitWithAck('console:snapshot', {}));
    expect(after.ok).toBe(true);
    expect(admin.connected).toBe(true);
  });

  it('snapshots carry models, coordinator telemetry and alerts', async () => {
    const { first } = await connect('test-viewer-token');
    expect(first.models).toEqual(expect.any(Array));
    expect(first.alerts).toEqual(expect.any(Array));
    expect(first.telemetry.coordinator.memory.heapUsedBytes).toBeGreaterThan(0);
    expect(first.telemetry.coordinator.sockets.console).toBeGreaterThanOrEqual(1);
  });

  it('stops a revoked token from acting on an open socket', async () => {
    const { record, token } = await co.tokens.create('admin', 'temporary', new Date().toISOString());
    const { s } = await connect(token);
    const job = await addJob(co);
    await co.store.revokeToken(record.id, new Date().toISOString());
    expect(
      codeOf(await ask(s, ACK_MS, (x) => x.emitWithAck('job:control', { jobId: job.id, action: 'pause' }))),
    ).toBe('UNAUTHORIZED');
    expect((await co.store.getJob(job.id))?.status).toBe('running');
  });
});
