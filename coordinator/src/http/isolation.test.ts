/**
 * Cross-origin isolation: the contribute page gets COOP/COEP, shared resources get CORP
 * cross-origin, and the console and the examples are left un-isolated. The wasm binaries are
 * checked through a real coordinator, the pages through a Hono app with the same middleware.
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCoordinator, type TestCoordinator } from '../testing.ts';
import { crossOriginIsolation } from './isolation.ts';

const pages = new Hono();
pages.use(crossOriginIsolation());
pages.get('/*', (c) => c.html('<p>page</p>'));

let co: TestCoordinator;
beforeAll(async () => {
  co = await startTestCoordinator();
});
afterAll(async () => {
  await co?.close();
});

describe('cross-origin isolation', () => {
  it('isolates the contribute page', async () => {
    for (const path of ['/', '/index.html']) {
      const res = await pages.request(path);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    }
  });

  it('leaves the console, the examples and the SDK pages un-isolated', async () => {
    for (const path of [
      '/admin',
      '/examples/fashion-classifier/',
      '/examples/fashion-classifier/index.html',
    ]) {
      const res = await pages.request(path);
      expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
      expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
    }
  });

  it('serves the wasm binaries with CORP cross-origin, so isolated pages anywhere may load them', async () => {
    const res = await fetch(`${co.url}/vendor/tfjs-wasm/tfjs-backend-wasm-threaded-simd.wasm`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
    const missing = await fetch(`${co.url}/models/weights/${'0'.repeat(64)}`);
    expect(missing.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
  });
});
