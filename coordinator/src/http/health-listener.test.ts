/**
 * GRIDTAB_HEALTH_PORT: a second listener answering only GET /api/health and /metrics, beside the public port,
 * and its setting's parsing. A real coordinator on free ports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../config.ts';
import { startTestCoordinator, type TestCoordinator } from '../testing.ts';

let co: TestCoordinator | null = null;
afterEach(async () => {
  await co?.destroy();
  co = null;
});

describe('the health listener', () => {
  it('answers GET /api/health on its own port and nothing else, and closes with the coordinator', async () => {
    co = await startTestCoordinator({ healthPort: 0 });
    const port = co.healthPort!;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(co.port);
    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(`${base}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    // Prometheus scrapes it there too: the same exposition as the public port's.
    const scraped = await fetch(`${base}/metrics`);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await scraped.text()).toMatch(/^# HELP gridtab_/m);
    for (const [path, method] of [
      ['/api/jobs', 'GET'],
      ['/api/health', 'POST'],
      ['/metrics', 'POST'],
      ['/', 'GET'],
    ]) {
      const res = await fetch(`${base}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await res.json()).error.code).toBe('NOT_FOUND');
    }
    // The public port still serves everything.
    expect((await fetch(`${co.url}/api/health`)).status).toBe(200);
    await co.destroy();
    co = null;
    await expect(fetch(`${base}/api/health`)).rejects.toThrow();
  });

  it('is off unless GRIDTAB_HEALTH_PORT is set, and refuses a bad value', () => {
    expect(configFromEnv({}).healthPort).toBeNull();
    expect(configFromEnv({ GRIDTAB_HEALTH_PORT: '9090' }).healthPort).toBe(9090);
    expect(() => configFromEnv({ GRIDTAB_HEALTH_PORT: 'x' })).toThrow(/GRIDTAB_HEALTH_PORT/);
    expect(() => configFromEnv({ GRIDTAB_HEALTH_PORT: '70000' })).toThrow(/at most 65535/);
  });
});
