/**
 * GRIDTAB_HEALTH_PORT: an optional second listener that answers only GET /api/health, for load
 * balancers and orchestrators' probes on a private interface. Why a port of its own: a check that
 * opens a new connection to the public port during a join flood is accepted behind the flood's
 * hundreds of connections of the same moment (bench:abuse, 2026-12-07: 124-369 ms while the event
 * loop never stalled past 34 ms); on its own listening socket it is accepted at once. Plain HTTP
 * and no other route, so there is nothing on it to protect.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthListener {
  port: number;
  close(): Promise<void>;
}

export async function listenHealth(port: number, host: string): Promise<HealthListener> {
  const server = createServer((req, res) => {
    const ok = req.method === 'GET' && (req.url === '/api/health' || req.url?.startsWith('/api/health?'));
    res.writeHead(ok ? 200 : 404, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(
      JSON.stringify(
        ok
          ? { ok: true }
          : { error: { code: 'NOT_FOUND', message: 'this port answers only GET /api/health' } },
      ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
