/**
 * The coordinator open to the internet: security headers, content types, failed-token and
 * join limits per address (forwarded addresses believed only from trusted proxies), the
 * connection cap, socket Origin checks on websocket and polling, contributor pages and the
 * audit log. A real coordinator on a free port, real socket.io clients.
 */
import {
  CONSOLE_NAMESPACE,
  CONTRIBUTOR_NAMESPACE,
  type ContributorClientEvents,
  type ContributorServerEvents,
  PROTOCOL_VERSION,
} from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoordinatorDeps } from '../app.ts';
import type { CoordinatorConfig } from '../config.ts';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';
import { securityConfigFromEnv } from './security-config.ts';

const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
let co: TestCoordinator | null = null;
type ContributorSocket = Socket<ContributorServerEvents, ContributorClientEvents>;
const sockets: Socket[] = [];

async function start(security: Partial<CoordinatorConfig['security']> = {}, deps: CoordinatorDeps = {}) {
  co = await startTestCoordinator(
    {
      security: { ...securityConfigFromEnv({}), ...security },
      viewerToken: 'test-viewer-token',
    },
    deps,
  );
  return co;
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await co?.destroy();
  co = null;
});

function connect(
  opts: { transports?: ('websocket' | 'polling')[]; origin?: string; forwardedFor?: string } = {},
) {
  const headers = {
    ...(opts.origin ? { origin: opts.origin } : {}),
    ...(opts.forwardedFor ? { 'x-forwarded-for': opts.forwardedFor } : {}),
  };
  const s: ContributorSocket = io(`${co!.url}${CONTRIBUTOR_NAMESPACE}`, {
    transports: opts.transports ?? ['websocket'],
    reconnection: false,
    extraHeaders: Object.keys(headers).length ? headers : undefined,
  });
  sockets.push(s);
  return new Promise<{ socket: ContributorSocket; error: string | null }>((resolve) => {
    s.on('connect', () => resolve({ socket: s, error: null }));
    // The refusal's text travels in the failed handshake's response, which the client keeps as
    // the error's description (polling) or context.
    s.on('connect_error', (e) => {
      const d = e as Error & { description?: unknown; context?: unknown };
      resolve({
        socket: s,
        error: `${e.message} ${JSON.stringify(d.description ?? '')} ${JSON.stringify(d.context ?? '')}`,
      });
    });
  });
}

const join = (s: ContributorSocket, clientId: string) =>
  s.timeout(10_000).emitWithAck('contributor:join', {
    protocolVersion: PROTOCOL_VERSION,
    clientId,
    backends: [{ name: 'cpu', available: true, samplesPerSec: 100 }],
    chosenBackend: 'cpu',
    kind: 'node',
  });

describe('security', () => {
  it('sends security headers on API answers and pages; only the example may be framed', async () => {
    await start();
    const api = await fetch(`${co!.url}/api/health`);
    const csp = api.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    // blob: scripts: TF.js's wasm pthread workers importScripts() their factory from a blob.
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval' blob:");
    expect(csp).toContain("worker-src 'self' blob:");
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('x-frame-options')).toBe('DENY');
    const page = await fetch(`${co!.url}/`);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const example = await fetch(`${co!.url}/examples/fashion-classifier/`);
    expect(example.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(example.headers.get('x-frame-options')).toBeNull();
  });

  it('answers a wrong content type with 415 UNSUPPORTED_MEDIA_TYPE and stores nothing', async () => {
    await start();
    const res = await fetch(`${co!.url}/api/jobs`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'text/plain' },
      body: JSON.stringify(TEST_JOB),
    });
    expect([res.status, (await res.json()).error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(await co!.store.listJobs()).toEqual([]);
  });

  it('limits failed token attempts per address with 429 and Retry-After; forwarded addresses only from trusted proxies', async () => {
    await start({ authFailureLimit: { burst: 3, perMinute: 1 }, trustedProxies: ['127.0.0.1'] });
    const attempt = (token: string, from: string) =>
      fetch(`${co!.url}/api/jobs`, {
        method: 'POST',
        headers: { ...ADMIN, authorization: `Bearer ${token}`, 'x-forwarded-for': from },
        body: JSON.stringify({ ...TEST_JOB, name: 'guarded' }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt(`guess-${i}`, '203.0.113.7')).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await attempt('test-admin-token', '203.0.113.7');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited.json()).error.code).toBe('RATE_LIMITED');
    // Another address behind the trusted proxy is not affected.
    expect((await attempt('test-admin-token', '198.51.100.2')).status).toBe(201);
    expect((await co!.store.listJobs()).length).toBe(1);
  });

  it('does not believe X-Forwarded-For from an untrusted peer', async () => {
    await start({ authFailureLimit: { burst: 2, perMinute: 1 }, trustedProxies: [] });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${co!.url}/api/jobs`, {
        method: 'POST',
        headers: { ...ADMIN, authorization: 'Bearer wrong', 'x-forwarded-for': `203.0.113.${i}` },
        body: '{}',
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('limits console token guesses per address with a typed RATE_LIMITED refusal, shared with HTTP', async () => {
    await start({ authFailureLimit: { burst: 3, perMinute: 1 }, trustedProxies: ['127.0.0.1'] });
    const consoleWith = (token: string, from: string) => {
      const s = io(`${co!.url}${CONSOLE_NAMESPACE}`, {
        transports: ['websocket'],
        reconnection: false,
        auth: { token },
        extraHeaders: { 'x-forwarded-for': from },
      });
      sockets.push(s);
      return new Promise<{ code: string; retryAfterMs?: number }>((resolve) => {
        s.on('connect', () => resolve({ code: 'connected' }));
        s.on('connect_error', (e) => resolve((e as Error & { data: { code: string } }).data));
      });
    };
    const codes: string[] = [];
    for (let i = 0; i < 2; i++) codes.push((await consoleWith(`guess-${i}`, '203.0.113.9')).code);
    // The same bucket as HTTP: a third wrong guess over HTTP uses the last token.
    const http = await fetch(`${co!.url}/api/jobs`, {
      method: 'POST',
      headers: { ...ADMIN, authorization: 'Bearer guess-http', 'x-forwarded-for': '203.0.113.9' },
      body: '{}',
    });
    codes.push(String(http.status));
    const refused = await consoleWith('guess-3', '203.0.113.9');
    codes.push(refused.code);
    expect(codes).toEqual(['UNAUTHORIZED', 'UNAUTHORIZED', '401', 'RATE_LIMITED']);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    // The right token from a limited address waits too; from another address it connects.
    expect((await consoleWith('test-admin-token', '203.0.113.9')).code).toBe('RATE_LIMITED');
    expect((await consoleWith('test-admin-token', '198.51.100.4')).code).toBe('connected');
  });

  it('limits joins per address before any row is written', async () => {
    await start({ joinLimit: { burst: 3, perMinute: 0 } });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { socket } = await connect();
      const r = await join(socket, `flood_client_${i}`);
      codes.push(r.ok ? 'ok' : r.error.code);
    }
    expect(codes).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect((await co!.store.listContributors()).map((c) => c.clientId).sort()).toEqual([
      'flood_client_0',
      'flood_client_1',
      'flood_client_2',
    ]);
  });

  it('forgets contributors that never did work once idle, keeping those that did', async () => {
    // The sweep's clock stays an hour behind until both rows are written and one has worked,
    // so neither is idle before that (the worker's row was once swept before its contribution).
    let offset = -3_600_000;
    await start(
      { contributorIdleMs: 0, maintenanceTickMs: 100 },
      { clock: { now: () => Date.now() + offset } },
    );
    const ids: string[] = [];
    for (const clientId of ['idle_client', 'worker_client']) {
      const r = await join((await connect()).socket, clientId);
      if (!r.ok) throw new Error(r.error.message);
      ids.push(r.data.contributorId);
    }
    // One finished a unit: its row carries work (units, samples) and so is kept for good.
    await co!.store.recordContribution(ids[1]!, 64, new Date(0).toISOString());
    expect((await co!.store.listContributors()).map((c) => c.clientId).sort()).toEqual([
      'idle_client',
      'worker_client',
    ]);
    offset = 3_600_000;
    await expect
      .poll(async () => (await co!.store.listContributors()).map((c) => c.clientId), { timeout: 20_000 })
      .toEqual(['worker_client']);
  });

  it('caps connections per process', async () => {
    await start({ maxConnections: 2 });
    const results = [await connect(), await connect(), await connect({ transports: ['polling'] })];
    expect(results.map((r) => r.error)).toEqual([null, null, expect.stringMatching(/most connections/)]);
    // A freed slot is free again.
    results[0].socket.close();
    await expect.poll(async () => (await connect()).error, { timeout: 10_000 }).toBeNull();
  });

  it('caps connections per address, counting only open ones', async () => {
    await start({ maxConnectionsPerAddress: 2 });
    const results = [await connect(), await connect({ transports: ['polling'] }), await connect()];
    expect(results.map((r) => r.error)).toEqual([null, null, expect.stringMatching(/websocket error/)]);
    // A forged X-Forwarded-For from a peer that is no trusted proxy does not escape the cap.
    const forged = await connect({ transports: ['polling'], forwardedFor: '203.0.113.9' });
    expect(forged.error).toMatch(/too many connections from this address/);
    // A closed connection frees its place.
    results[0].socket.close();
    await expect.poll(async () => (await connect()).error, { timeout: 10_000 }).toBeNull();
  });

  it('checks the page Origin on websocket and polling handshakes', async () => {
    await start({ allowedOrigins: ['https://apps.example.org'] });
    for (const transports of [['websocket'], ['polling']] as const) {
      const refused = (await connect({ transports: [...transports], origin: 'https://evil.example' })).error;
      expect(refused).toMatch(transports[0] === 'polling' ? /origin may not connect/ : /websocket error/);
      expect(
        (await connect({ transports: [...transports], origin: 'https://apps.example.org' })).error,
      ).toBeNull();
      expect((await connect({ transports: [...transports], origin: co!.url })).error).toBeNull();
      expect((await connect({ transports: [...transports] })).error).toBeNull();
    }
  });

  it('pages contributors with a next cursor, keeping the old fields', async () => {
    await start();
    for (let i = 0; i < 5; i++)
      await co!.store.upsertContributor(`paged_${i}`, 'cpu', `2026-01-0${i + 1}T00:00:00.000Z`);
    const seen: string[] = [];
    let url = `${co!.url}/api/contributors?limit=2`;
    for (;;) {
      const res = await fetch(url);
      const page = (await res.json()) as {
        id: string;
        online: boolean;
        unitsDone: number;
        lastSeen: string;
      }[];
      expect(page.length).toBeLessThanOrEqual(2);
      for (const row of page)
        expect(Object.keys(row)).toEqual(
          expect.arrayContaining(['id', 'online', 'backend', 'unitsDone', 'samplesDone', 'lastSeen']),
        );
      seen.push(...page.map((r) => r.lastSeen));
      const next = res.headers.get('x-next-cursor');
      if (!next) break;
      url = `${co!.url}/api/contributors?limit=2&cursor=${next}`;
    }
    expect(seen).toEqual([5, 4, 3, 2, 1].map((d) => `2026-01-0${d}T00:00:00.000Z`));
    const bad = await fetch(`${co!.url}/api/contributors?cursor=nonsense`);
    expect([bad.status, (await bad.json()).error.code]).toEqual([400, 'BAD_REQUEST']);
    expect((await fetch(`${co!.url}/api/contributors?limit=100000`)).status).toBe(400);
  });

  it('writes admin actions to the audit log, readable by admin and viewer tokens only', async () => {
    await start();
    const created = await (
      await fetch(`${co!.url}/api/jobs`, { method: 'POST', headers: ADMIN, body: JSON.stringify(TEST_JOB) })
    ).json();
    await fetch(`${co!.url}/api/jobs/${created.id}/pause`, { method: 'POST', headers: ADMIN });
    await fetch(`${co!.url}/api/jobs/nope/pause`, { method: 'POST', headers: ADMIN }); // 404: not audited
    const token = await (
      await fetch(`${co!.url}/api/tokens`, {
        method: 'POST',
        headers: ADMIN,
        body: JSON.stringify({ role: 'viewer', label: 'ops' }),
      })
    ).json();
    expect((await fetch(`${co!.url}/api/audit`)).status).toBe(401);
    const read = async (auth: string, query = '') =>
      (await fetch(`${co!.url}/api/audit${query}`, { headers: { authorization: `Bearer ${auth}` } })).json();
    const { entries } = await read('test-viewer-token');
    expect(
      entries.map((e: { action: string; target: string; actor: string; address: string }) => [
        e.action,
        e.target,
        e.actor,
        e.address,
      ]),
    ).toEqual([
      ['POST /api/tokens', token.id, 'ADMIN_TOKEN', '127.0.0.1'],
      ['POST /api/jobs/:id/:action', `/api/jobs/${created.id}/pause`, 'ADMIN_TOKEN', '127.0.0.1'],
      ['POST /api/jobs', created.id, 'ADMIN_TOKEN', '127.0.0.1'],
    ]);
    const first = await read(token.token, '?limit=2');
    expect(first.entries).toHaveLength(2);
    const rest = await read(token.token, `?limit=2&before=${first.nextBefore}`);
    expect(rest.entries.map((e: { target: string }) => e.target)).toEqual([created.id]);
    expect(rest.nextBefore).toBeNull();
    const doc = await (await fetch(`${co!.url}/api/openapi.json`)).json();
    expect(Object.keys(doc.paths)).toContain('/audit');
  });
});
