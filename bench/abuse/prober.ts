/**
 * bench:abuse's health prober, in a process of its own: one GET /api/health every 20 ms (never
 * two at once, so a stalled coordinator shows as a long sample, not a pile of them). `{ phase }`
 * starts a phase, `{ end: true }` replies with its latencies; a request that fails or takes
 * past 10 s counts as an error.
 *
 * Over one kept-alive connection (ABUSE_PROBE_NEW_CONNECTIONS=1: a new one per probe), as a load
 * balancer's or Prometheus's checks are. A new connection opened during a flood is accepted
 * behind the flood's hundreds of connections from the same moment: on 2026-12-07 such probes took
 * 124-369 ms while the coordinator's event loop never stalled past 34 ms. That is the listen
 * queue's wait, not the coordinator's; the kept-alive probe measures the coordinator. Node's
 * http agent with one socket, not fetch: with fetch (undici) two of three quiet runs had one slow
 * sample of 207-291 ms in the one-address flood, of a cause not found; with this agent none of
 * three did.
 */
import http from 'node:http';

const agent = new http.Agent({ keepAlive: process.env.ABUSE_PROBE_NEW_CONNECTIONS !== '1', maxSockets: 1 });
const url = process.argv[2];
let times: number[] = [];
let errors = 0;
let running = true;

async function probe() {
  while (running) {
    const t = performance.now();
    try {
      const r = await new Promise<{ status: number }>((resolve, reject) => {
        const req = http.get(`${url}/api/health`, { agent, timeout: 10_000 }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error('timed out')));
      });
      if (r.status !== 200) errors++;
      else times.push(performance.now() - t);
    } catch {
      errors++;
    }
    const left = 20 - (performance.now() - t);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
  }
}

const at = (sorted: number[], q: number) =>
  sorted.length
    ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] * 10) / 10
    : null;

process.on('message', (m: { phase?: string; end?: boolean; stop?: boolean }) => {
  if (m.phase) {
    times = [];
    errors = 0;
  } else if (m.end) {
    const sorted = [...times].sort((a, b) => a - b);
    process.send?.({
      samples: sorted.length,
      errors,
      p50Ms: at(sorted, 0.5),
      p99Ms: at(sorted, 0.99),
      maxMs: sorted.length ? Math.round(sorted[sorted.length - 1] * 10) / 10 : null,
    });
  } else if (m.stop) {
    running = false;
    process.exit(0);
  }
});
void probe();
process.send?.({ ready: true });
