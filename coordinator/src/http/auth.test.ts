import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';

describe('roles on the HTTP API', () => {
  let co: TestCoordinator;
  const logged: string[] = [];
  const bearer = (token: string) => ({
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
  });
  const call = (method: string, path: string, token: string | null, body?: unknown) =>
    fetch(`${co.url}${path}`, {
      method,
      headers: token ? bearer(token) : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const snapshot = async () => ({
    jobs: (await co.store.listJobs()).map((j) => [j.id, j.status]),
    tokens: (await co.store.listTokens()).map((t) => [t.id, t.revokedAt]),
  });

  beforeAll(async () => {
    co = await startTestCoordinator({ viewerToken: 'test-viewer-token' }, { log: (msg) => logged.push(msg) });
  });
  afterAll(async () => co.destroy());

  /** Every mutating route of the OpenAPI document, so a new route is covered without edits here. */
  async function mutatingRoutes(): Promise<{ method: string; path: string }[]> {
    const doc = (await (await fetch(`${co.url}/api/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { parameters?: { name: string; schema?: { enum?: string[] } }[] }>
      >;
    };
    const routes: { method: string; path: string }[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!['post', 'put', 'patch', 'delete'].includes(method)) continue;
        // Fill path parameters with a real-looking value (the first enum value where there is one).
        const concrete = path.replace(/\{(\w+)\}/g, (_m, name: string) => {
          const param = op.parameters?.find((p) => p.name === name);
          return param?.schema?.enum?.[0] ?? 'some-id';
        });
        routes.push({ method: method.toUpperCase(), path: `/api${concrete}` });
      }
    }
    return routes;
  }

  it('refuses every mutating route to a viewer (403) and to no token (401), storing nothing', async () => {
    const job = await (await call('POST', '/api/jobs', 'test-admin-token', TEST_JOB)).json();
    const routes = (await mutatingRoutes()).map((r) => ({ ...r, path: r.path.replace('some-id', job.id) }));
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'POST /api/jobs',
        `POST /api/jobs/${job.id}/pause`,
        'POST /api/tokens',
        'POST /api/sweeps',
        `POST /api/sweeps/${job.id}/cancel`,
      ]),
    );
    const before = await snapshot();
    for (const { method, path } of routes) {
      const body = method === 'POST' ? {} : undefined;
      const asViewer = await call(method, path, 'test-viewer-token', body);
      expect([path, asViewer.status, (await asViewer.json()).error.code]).toEqual([path, 403, 'FORBIDDEN']);
      const anonymous = await call(method, path, null, body);
      expect([path, anonymous.status, (await anonymous.json()).error.code]).toEqual([
        path,
        401,
        'UNAUTHORIZED',
      ]);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('leaves read routes open to everyone', async () => {
    for (const token of [null, 'test-viewer-token', 'test-admin-token']) {
      expect((await call('GET', '/api/jobs', token)).status).toBe(200);
    }
  });

  it('creates tokens with roles, and a revoked token gets 401', async () => {
    const res = await call('POST', '/api/tokens', 'test-admin-token', { role: 'admin', label: 'ops laptop' });
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created).toMatchObject({ role: 'admin', label: 'ops laptop', revokedAt: null });
    expect(created.token).toMatch(/^gt_/);
    // Only the digest is stored, and the secret is never logged.
    expect(JSON.stringify(await co.store.listTokens())).not.toContain(created.token);
    expect(logged.join('\n')).not.toContain(created.token);
    expect(logged.join('\n')).not.toContain('test-admin-token');

    const viewer = await (
      await call('POST', '/api/tokens', 'test-admin-token', { role: 'viewer', label: 'wall screen' })
    ).json();
    expect((await call('POST', '/api/jobs', viewer.token, TEST_JOB)).status).toBe(403);
    expect((await call('POST', '/api/jobs', created.token, TEST_JOB)).status).toBe(201);

    const revoke = await call('DELETE', `/api/tokens/${created.id}`, 'test-admin-token');
    expect(revoke.status).toBe(200);
    expect((await revoke.json()).revokedAt).not.toBeNull();
    const after = await call('POST', '/api/jobs', created.token, TEST_JOB);
    expect(after.status).toBe(401);
    expect((await after.json()).error.code).toBe('UNAUTHORIZED');
    expect((await call('DELETE', `/api/tokens/${created.id}`, 'test-admin-token')).status).toBe(404);

    const listed = await (await call('GET', '/api/tokens', 'test-admin-token')).json();
    expect(listed.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining([created.id, viewer.id]));
    expect(JSON.stringify(listed)).not.toMatch(/gt_|hash/);
    expect((await call('GET', '/api/tokens', viewer.token)).status).toBe(403);
  });

  it('refuses bad token requests with BAD_REQUEST and stores nothing', async () => {
    const before = await snapshot();
    for (const body of [
      { role: 'root', label: 'x' },
      { role: 'viewer', label: '' },
      { role: 'viewer' },
      {
        role: 'viewer',
        label: 'x',
        extra: 1,
      },
    ]) {
      const res = await call('POST', '/api/tokens', 'test-admin-token', body);
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toBe('BAD_REQUEST');
    }
    expect(await snapshot()).toEqual(before);
  });
});
