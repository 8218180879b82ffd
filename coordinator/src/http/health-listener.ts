/**
 * GRIDTAB_HEALTH_PORT: an optional second listener that answers only GET /api/health and GET
 * /metrics, for load balancers', orchestrators' probes and Prometheus on a private interface. Why a port of its own: a check that
 * opens a new connection to the public port during a join flood is accepted behind the flood's
 * hundreds of connections of the same moment (bench:abuse, 2026-12-07: 124-369 ms while the event
 * loop never stalled past 34 ms); on its own listening socket it is accepted at once, and a
 * scrape during a flood is not lost either. Plain HTTP and no other route: the metrics are the
 * public port's /metrics, which needs no token there either.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthListener {
  port: number;
  close(): Promise<void>;
}

/** The Prometheus exposition, as the public port's /metrics serves it. */
export type MetricsText = () => Promise<{ body: string; contentType: string }>;

const isPath = (url: string | undefined, path: string) => url === path || url?.startsWith(`${path}?`);

export async function listenHealth(
  port: number,
  host: string,
  metrics?: MetricsText,
): Promise<HealthListener> {
  const server = createServer((req, res) => {
    if (metrics && req.method === 'GET' && isPath(req.url, '/metrics')) {
      metrics().then(
        ({ body, contentType }) => {
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
          res.end(body);
        },
        () => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('metrics unavailable');
        },
      );
      return;
    }
    const ok = req.method === 'GET' && isPath(req.url, '/api/health');
    res.writeHead(ok ? 200 : 404, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(
      JSON.stringify(
        ok
          ? { ok: true }
          : {
              error: {
                code: 'NOT_FOUND',
                message: 'this port answers only GET /api/health and GET /metrics',
              },
            },
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
