/**
 * `npm run bench:abuse`: a coordinator in this process under abuse on loopback, bounded in count
 * and time. A join flood from N socket.io clients (each with its own random clientId, one
 * address: joins admitted vs refused by the per-address bucket), then a burst of hostile model
 * specs; /api/health is polled throughout and its p99 reported per phase, with peak RSS.
 * Results to bench/results/abuse.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CONTRIBUTOR_NAMESPACE, PROTOCOL_VERSION, type Result } from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { HOSTILE_SPECS, hostileBody } from '../coordinator/src/http/hostile-specs.ts';
import { securityConfigFromEnv } from '../coordinator/src/security/security-config.ts';
import { startTestCoordinator, TEST_JOB } from '../coordinator/src/testing.ts';

const CLIENTS = Number(process.env.ABUSE_CLIENTS ?? 500);
const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };

const co = await startTestCoordinator({ security: { ...securityConfigFromEnv({}), maxConnections: 10_000 } });
let peakRss = process.memoryUsage().rss;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

/** Polls health until `stop` resolves; returns its p99 latency in ms. */
async function healthDuring(work: Promise<unknown>) {
  const times: number[] = [];
  let done = false;
  void work.finally(() => {
    done = true;
  });
  while (!done) {
    const t = performance.now();
    const res = await fetch(`${co.url}/api/health`);
    await res.json();
    times.push(performance.now() - t);
  }
  await work;
  times.sort((a, b) => a - b);
  return {
    samples: times.length,
    p50Ms: times[Math.floor(times.length * 0.5)] ?? null,
    p99Ms: times[Math.floor(times.length * 0.99)] ?? null,
  };
}

async function flood() {
  const sockets: Socket[] = [];
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const s = io(`${co.url}${CONTRIBUTOR_NAMESPACE}`, { transports: ['websocket'], reconnection: false });
      sockets.push(s);
      const connected = await new Promise<boolean>((r) => {
        s.on('connect', () => r(true));
        s.on('connect_error', () => r(false));
      });
      if (!connected) return 'refused-connection';
      const r = (await s.timeout(30_000).emitWithAck('contributor:join', {
        protocolVersion: PROTOCOL_VERSION,
        clientId: `flood_${i}_${Math.random().toString(36).slice(2, 10)}`,
        backends: [{ name: 'cpu', available: true, samplesPerSec: 1 }],
        chosenBackend: 'cpu',
        kind: 'node',
      })) as Result<unknown>;
      return r.ok ? 'admitted' : r.error.code;
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const s of sockets) s.close();
  const count = (k: string) => outcomes.filter((o) => o === k).length;
  return {
    clients: CLIENTS,
    seconds,
    admitted: count('admitted'),
    refused: count('RATE_LIMITED'),
    admittedPerSec: count('admitted') / seconds,
    refusedPerSec: count('RATE_LIMITED') / seconds,
    contributorRows: (await co.store.listContributors()).length,
  };
}

async function hostileBurst() {
  const statuses = await Promise.all(
    HOSTILE_SPECS.map((spec) =>
      fetch(`${co.url}/api/jobs`, {
        method: 'POST',
        headers: ADMIN,
        body: hostileBody(spec, (model) => ({ ...TEST_JOB, model })),
      }).then((r) => r.status),
    ),
  );
  return { specs: statuses.length, refused400: statuses.filter((s) => s === 400).length };
}

const idle = await healthDuring(new Promise((r) => setTimeout(r, 1000)));
const floodWork = flood();
const floodHealth = await healthDuring(floodWork);
const hostileWork = hostileBurst();
const hostileHealth = await healthDuring(hostileWork);
clearInterval(rssTimer);
const result = {
  at: new Date().toISOString(),
  joinLimit: co.config.security.joinLimit,
  idleHealth: idle,
  flood: { ...(await floodWork), health: floodHealth },
  hostileSpecs: { ...(await hostileWork), health: hostileHealth },
  peakRssMiB: Math.round(peakRss / 2 ** 20),
};
await co.destroy();
const out = resolve(import.meta.dirname, 'results/abuse.json');
mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
process.exit(0);
