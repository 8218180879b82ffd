/**
 * bench:abuse's coordinator, in a process of its own so that the attackers' work (building
 * bodies, opening hundreds of sockets) does not stall the loop being measured. It runs as
 * `npm start` would on its defaults: the real model-build pool, the default join and connection
 * limits, the production tick. It records its own event-loop delay (perf_hooks) and peak RSS
 * per phase, and answers the parent over IPC: `{ phase: name }` starts a phase, `{ end: true }`
 * ends it and replies with its figures.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { type EventLoopUtilization, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { securityConfigFromEnv } from '../../coordinator/src/security/security-config.ts';
import { createTestDatabase } from '../../coordinator/src/storage/postgres/test-db.ts';
import { startTestCoordinator } from '../../coordinator/src/testing.ts';

// ABUSE_STORE=postgres: the store and blobs in a fresh PostgreSQL database (dropped at the end),
// whose writes wait on a socket instead of an fsync on the event loop as the embedded one's do.
const db = process.env.ABUSE_STORE === 'postgres' ? await createTestDatabase() : null;
const co = await startTestCoordinator(
  {
    security: securityConfigFromEnv(process.env),
    tickMs: 500,
    disconnectGraceMs: 5000,
    databaseUrl: db?.url ?? null,
    // ABUSE_PROBE_HEALTH_PORT=1: the health listener of its own (GRIDTAB_HEALTH_PORT) is probed.
    healthPort: process.env.ABUSE_PROBE_HEALTH_PORT === '1' ? 0 : null,
  },
  // undefined: the coordinator's own build pool, not the tests' in-thread builder.
  { builder: undefined },
);

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
let peakRss = process.memoryUsage.rss();
const rss = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 100);
// ABUSE_CPU_PROF=<dir>: a V8 CPU profile of each phase's main thread, to find what stalls it.
const profileDir = process.env.ABUSE_CPU_PROF;
const inspector = profileDir ? new Session() : null;
inspector?.connect();
let phaseName = '';
let elu: EventLoopUtilization = performance.eventLoopUtilization();
let batchesBefore = 0;
const ms = (ns: number) => Math.round((ns / 1e6) * 10) / 10;

process.on('message', async (m: { phase?: string; end?: boolean; stop?: boolean }) => {
  if (m.phase) {
    phaseName = m.phase;
    await inspector?.post('Profiler.enable');
    await inspector?.post('Profiler.start');
    loop.reset();
    elu = performance.eventLoopUtilization();
    peakRss = process.memoryUsage.rss();
    batchesBefore = co.joinWrites.stats.batches;
  } else if (m.end) {
    const profile = await inspector?.post('Profiler.stop');
    if (profile)
      writeFileSync(
        `${profileDir}/${phaseName.replace(/\W/g, '-')}.cpuprofile`,
        JSON.stringify(profile.profile),
      );
    process.send?.({
      // The share of the phase the main thread was busy (not waiting for I/O or timers).
      loopUtilization: Math.round(performance.eventLoopUtilization(elu).utilization * 100) / 100,
      loopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
      peakRssMiB: Math.round(Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20),
      contributorRows: (await co.store.listContributors()).length,
      // Transactions that wrote the phase's join rows (realtime/join-writes.ts).
      joinRowBatches: co.joinWrites.stats.batches - batchesBefore,
      jobs: (await co.store.listJobs()).length,
    });
  } else if (m.stop) {
    clearInterval(rss);
    loop.disable();
    await co.destroy();
    await db?.drop();
    process.exit(0);
  }
});
process.send?.({
  store: db ? 'postgres' : 'embedded (SQLite + files)',
  url: co.url,
  healthUrl: co.healthPort === null ? null : `http://127.0.0.1:${co.healthPort}`,
  joinLimit: co.config.security.joinLimit,
  build: co.config.security.build,
});
