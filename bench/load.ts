/**
 * `npm run bench:load`: simulated contributors (socket.io clients speaking the real protocol
 * with synthetic updates) against one coordinator process. Measures connections held with
 * heartbeats and the coordinator's memory per connection, units assigned per second with
 * assignment latency p50/p99 at a paced 1,000 units/s and unpaced, update ingest in MB/s, and
 * Mean-rule aggregation throughput beside a plain memory copy of the same bytes, in the same run.
 * The load generator runs on the same 2 cores as the coordinator; the numbers say so.
 * Options: --connections N (default 10000), --hold S (seconds to hold them, default 30),
 * --processes 1,2 (default 1). Mode 2 starts two coordinators sharing a fresh PostgreSQL
 * database (created and dropped here, postgres@127.0.0.1:5432) and Redis (127.0.0.1:6379),
 * spreads the connections over both, creates one job through each (so each owns one, checked
 * in Redis) and sends each half of the requesters to the owner of its job. It runs after the
 * one-process baseline and reports its ratio to it, with the CPU seconds the generator and
 * each coordinator used (process.cpuUsage and /proc/<pid>/stat).
 * --meter-pairs K (default 0) then runs the one-process measurement K more times with usage
 * accounting off (GRIDTAB_USAGE_METER=off) and K times on, alternating, and reports the
 * accounting's overhead: the coordinator's CPU seconds per accepted update (ingest, where the
 * meter works) and per unit request (assignment), and ingest MB/s, medians on against off.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CONTRIBUTOR_NAMESPACE, MODEL_PRESETS, PROTOCOL_VERSION, sha256Hex } from '@gridtab/shared';
import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { WeightedMean } from '../coordinator/src/aggregation/weighted-mean.ts';
import { createTestDatabase } from '../coordinator/src/storage/postgres/test-db.ts';
import { type CoordinatorProcess, startCoordinator } from '../e2e/coordinator.ts';
import { addRows, machine, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    hold: { type: 'string', default: '30' },
    processes: { type: 'string', default: '1' },
    'meter-pairs': { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'Usage: npm run bench:load -- [--connections N] [--hold SECONDS] [--processes 1,2] [--meter-pairs K]',
  );
  process.exit(0);
}
const N = Number(values.connections);
const HOLD_S = Number(values.hold);
const PARAMS = 101_770;
const MODES = values.processes.split(',').map(Number);
const METER_PAIRS = Number(values['meter-pairs']);
if (MODES.some((m) => m !== 1 && m !== 2) || (MODES[0] !== 1 && MODES.join() !== '2'))
  throw new Error(
    '--processes takes 1 or 1,2 (the one-process baseline runs first), or 2 alone (printed, not recorded)',
  );

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const REDIS_URL = 'redis://127.0.0.1:6379';
const freePort = async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
};
/** CPU seconds (user + system) of a child, from /proc/<pid>/stat (clock ticks of 1/100 s). */
const childCpu = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
/** CPU seconds of the PostgreSQL and Redis server processes now alive (exited backends drop out). */
const serverCpu = () => {
  let sum = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm.startsWith('postgres') || comm.startsWith('redis-server')) sum += childCpu(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return sum;
};
const cpuSnapshot = (cos: CoordinatorProcess[]) => {
  const u = process.cpuUsage();
  return {
    generator: (u.user + u.system) / 1e6,
    coordinators: cos.map((c) => childCpu(c.pid)),
    postgresAndRedis: serverCpu(),
  };
};
type Snap = ReturnType<typeof cpuSnapshot>;
const cpuBetween = (a: Snap, b: Snap, wallSeconds: number) => ({
  wallSeconds,
  generatorCpuSeconds: b.generator - a.generator,
  coordinatorCpuSeconds: b.coordinators.map((x, i) => x - a.coordinators[i]),
  postgresAndRedisCpuSeconds: b.postgresAndRedis - a.postgresAndRedis,
});

/**
 * Ends the bench with a coordinator's last log lines if one of them exits mid-measurement (it
 * would otherwise leave the generator waiting on sockets that never answer).
 */
function watchdog(cos: CoordinatorProcess[]) {
  const timer = setInterval(() => {
    for (const co of cos) {
      try {
        process.kill(co.pid, 0);
      } catch {
        console.error(`\ncoordinator ${co.url} (pid ${co.pid}) exited mid-run; its last log lines:`);
        console.error(co.log.slice(-40).join('\n'));
        process.exit(1);
      }
    }
  }, 1000);
  return () => clearInterval(timer);
}

/** One measurement: N connections spread over the coordinators, assignment, ingest. */
async function measure(cos: CoordinatorProcess[], redis: Redis | null) {
  const unwatch = watchdog(cos);
  try {
    return await measureWatched(cos, redis);
  } finally {
    unwatch();
  }
}

async function measureWatched(cos: CoordinatorProcess[], redis: Redis | null) {
  const rss = async (co: CoordinatorProcess) => {
    const text = await (await fetch(`${co.url}/metrics`)).text();
    return Number(/^gridtab_process_resident_memory_bytes (\S+)/m.exec(text)?.[1] ?? Number.NaN);
  };
  const cpu = { start: cpuSnapshot(cos) };
  const t0 = performance.now();

  // 1. Connections, joined, held across heartbeats; connection i goes to coordinator i % n.
  const rssBefore = await Promise.all(cos.map(rss));
  const sockets: Socket[] = [];
  const home: number[] = [];
  const urls = cos.map((co) => co.url.replace('//localhost:', '//127.0.0.1:'));
  const connectStarted = performance.now();
  for (let i = 0; i < N; i += 250) {
    const batch = Array.from({ length: Math.min(250, N - i) }, (_, j) => {
      const k = (i + j) % cos.length;
      // 127.0.0.1, not the coordinator's `localhost` URL: a name lookup per connection costs
      // the generator seconds of CPU over 10,000. The connect timeout (20 s by default) is
      // raised: on a loaded machine a coordinator busy with thousands of joins accepts late.
      const s = io(`${urls[k]}${CONTRIBUTOR_NAMESPACE}`, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        timeout: 120_000,
      });
      sockets.push(s);
      home.push(k);
      return new Promise<void>((resolve, reject) => {
        s.once('connect', () =>
          s
            .timeout(60_000)
            .emitWithAck('contributor:join', {
              protocolVersion: PROTOCOL_VERSION,
              clientId: `load_${i + j}_${Math.random().toString(36).slice(2, 10)}`,
              backends: [{ name: 'cpu', available: true, samplesPerSec: 100 }],
              chosenBackend: 'cpu',
              kind: 'node',
            })
            .then(
              (r: { ok: boolean; error?: { code: string; message: string } }) =>
                r.ok
                  ? resolve()
                  : reject(
                      new Error(
                        `join ${i + j} refused by ${cos[k].url}: ${r.error?.code} ${r.error?.message}`,
                      ),
                    ),
              reject,
            ),
        );
        s.once('connect_error', (e) =>
          reject(new Error(`connection ${i + j} to ${cos[k].url} failed: ${e.message}`)),
        );
      });
    });
    await Promise.all(batch);
    process.stdout.write(`\rconnected ${sockets.length}/${N} over ${cos.length} process(es)   `);
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  const rssConnected = await Promise.all(cos.map(rss));
  process.stdout.write(`\nholding ${N} connections for ${HOLD_S} s (socket.io heartbeats every 25 s)\n`);
  await sleep(HOLD_S * 1000);
  const held = sockets.filter((s) => s.connected).length;
  const heldPerProcess = cos.map((_, k) => sockets.filter((s, i) => home[i] === k && s.connected).length);
  const t1 = performance.now();
  const cpuConnected = cpuSnapshot(cos);

  // 2. Assignment: one job per coordinator (created through it, so it owns it), 10,000 units a
  // round in all (split over the jobs) and long leases, requested by 200 clients split over the
  // owners.
  const owners: { jobId: string; createdVia: string; owner: string | null }[] = [];
  for (const co of cos) {
    const job = await co.createJob({
      name: `load-${owners.length}`,
      model: MODEL_PRESETS['fashion-mlp'],
      dataset: 'fashion-mnist',
      hyperparameters: { batchSize: 10, localSteps: 1, learningRate: 0.001, optimizer: 'adam' },
      rounds: { unitsPerRound: 10_000 / cos.length, quorum: 1, deadlineMs: 86_400_000, leaseMs: 3_600_000 },
      stopping: { maxRounds: 1000 },
    });
    const owner = redis ? ((await redis.get(`gridtab:owner:${job.id}`)) ?? null) : null;
    owners.push({ jobId: job.id, createdVia: co.url, owner });
    if (redis && !owner?.endsWith(`:${new URL(co.url).port}`))
      throw new Error(`job ${job.id} created via ${co.url} is owned by ${owner}`);
  }
  const requesters = cos.flatMap((_, k) =>
    sockets.filter((_, i) => home[i] === k).slice(0, 200 / cos.length),
  );
  const leases: {
    socket: Socket;
    unit: { leaseId: string; unitId: string; baseVersionId: string; jobId: string };
  }[] = [];
  let redirects = 0;
  const request = async (s: Socket) => {
    const t = performance.now();
    const r = await s.timeout(30_000).emitWithAck('unit:request', {});
    const ms = performance.now() - t;
    if (r.ok && r.data.unit) leases.push({ socket: s, unit: r.data.unit });
    if (r.ok && r.data.redirect) redirects++;
    return ms;
  };
  async function assignAt(rate: number | null, seconds: number) {
    const lat: number[] = [];
    const leasesBefore = leases.length;
    const started = performance.now();
    const pending: Promise<void>[] = [];
    let sent = 0;
    while (performance.now() - started < seconds * 1000) {
      if (rate === null) {
        await Promise.all(requesters.map((s) => request(s).then((ms) => void lat.push(ms))));
        sent += requesters.length;
        continue;
      }
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (sent < due)
        pending.push(request(requesters[sent++ % requesters.length]).then((ms) => void lat.push(ms)));
      await sleep(5);
    }
    await Promise.all(pending);
    const elapsed = (performance.now() - started) / 1000;
    return {
      target: rate,
      achievedPerSec: lat.length / elapsed,
      unitsAssigned: leases.length - leasesBefore,
      p50Ms: pct(lat, 50),
      p99Ms: pct(lat, 99),
      requests: lat.length,
    };
  }
  const paced = await assignAt(1000, 4);
  const unpaced = await assignAt(null, 3);
  const t2 = performance.now();
  const cpuAssigned = cpuSnapshot(cos);

  // 3. Ingest: zero-delta fp32 updates (the MLP's 101,770 values, 407 KB) for leased units,
  // each sent on the socket that leased it (so to the owner of its job).
  const payload = new Uint8Array(PARAMS * 4);
  const checksum = await sha256Hex(payload);
  const perJob = Math.ceil(120 / owners.length);
  const toSubmit = owners.flatMap((o) => leases.filter((l) => l.unit.jobId === o.jobId).slice(0, perJob));
  const ingestStarted = performance.now();
  let accepted = 0;
  for (let i = 0; i < toSubmit.length; i += 8) {
    await Promise.all(
      toSubmit.slice(i, i + 8).map(async ({ socket, unit }) => {
        const r = await socket.timeout(60_000).emitWithAck(
          'unit:submit',
          {
            leaseId: unit.leaseId,
            unitId: unit.unitId,
            baseVersionId: unit.baseVersionId,
            numSamples: 10,
            codec: 'fp32',
            checksum,
            loss: 1,
            trainMs: 1,
            backend: 'cpu',
          },
          payload,
        );
        if (r.ok) accepted++;
      }),
    );
  }
  const ingestSeconds = (performance.now() - ingestStarted) / 1000;
  const t3 = performance.now();
  const cpuIngested = cpuSnapshot(cos);
  const ingest = {
    updates: accepted,
    bytesEach: payload.byteLength,
    seconds: ingestSeconds,
    mbPerSec: (accepted * payload.byteLength) / 1e6 / ingestSeconds,
  };
  for (const s of sockets) s.disconnect();

  const perConnKB = rssConnected.reduce((a, b, k) => a + b - rssBefore[k], 0) / N / 1024;
  return {
    connections: {
      requested: N,
      connectSeconds,
      heldAfterSeconds: HOLD_S,
      held,
      heldPerProcess,
      rssBeforeMB: rssBefore.map((x) => x / 1e6),
      rssConnectedMB: rssConnected.map((x) => x / 1e6),
      memoryPerConnectionKB: perConnKB,
    },
    jobs: owners,
    assignment: { paced, unpaced, redirectsAnswered: redirects },
    ingest,
    cpu: {
      connectAndHold: cpuBetween(cpu.start, cpuConnected, (t1 - t0) / 1000),
      assignment: cpuBetween(cpuConnected, cpuAssigned, (t2 - t1) / 1000),
      ingest: cpuBetween(cpuAssigned, cpuIngested, (t3 - t2) / 1000),
    },
  };
}

// One process (embedded store, as `npm start` does), always first.
/**
 * The load comes from one address: the per-address join limit (GRIDTAB_JOIN_BURST, 60 at once
 * then 60 a minute), the per-process connection cap (GRIDTAB_MAX_CONNECTIONS, 5,000) and the
 * per-address one (GRIDTAB_MAX_CONNECTIONS_PER_ADDRESS, 200) would refuse it, so the bench
 * lifts all three. Coordinators log at `warn`: at `info` each join is a line on stdout (a pipe
 * to this process), 10,000 of them during the connect phase.
 */
const LOAD_LIMITS = {
  GRIDTAB_JOIN_BURST: '1000000',
  GRIDTAB_JOINS_PER_MINUTE: '1000000',
  GRIDTAB_MAX_CONNECTIONS: '1000000',
  GRIDTAB_MAX_CONNECTIONS_PER_ADDRESS: '0',
  LOG_LEVEL: 'warn',
};
const measureOne = async (env: Record<string, string> = {}) => {
  const co = await startCoordinator({ ...LOAD_LIMITS, ...env });
  try {
    return await measure([co], null);
  } finally {
    await co.stop();
  }
};
// Two processes sharing a fresh PostgreSQL database and Redis.
async function measureTwo() {
  const db = await createTestDatabase();
  const redis = new Redis(REDIS_URL);
  const cos: CoordinatorProcess[] = [];
  try {
    for (const name of ['a', 'b']) {
      const port = await freePort();
      // One after the other: both would import Fashion-MNIST into the empty database.
      cos.push(
        await startCoordinator({
          ...LOAD_LIMITS,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: db.url,
          REDIS_URL,
          // A channel of its own: on the default one, every other coordinator sharing this
          // Redis (tests, other runs) broadcasts to these 10,000 sockets too.
          GRIDTAB_REDIS_CHANNEL: `gridtab-bench-load-${process.pid}`,
          // Ownership renewals come every third of the TTL; at load 25-40 a coordinator with
          // 5,000 sockets missed them for the default 5 s, and the other one took its job over
          // mid-run. Nothing is killed here, so a long TTL only delays a takeover never needed.
          GRIDTAB_OWNER_TTL_MS: '30000',
          GRIDTAB_PUBLIC_URL: `http://127.0.0.1:${port}`,
        }),
      );
      process.stdout.write(`coordinator ${name} on ${cos.at(-1)!.url}\n`);
    }
    return await measure(cos, redis);
  } finally {
    for (const co of cos) await co.stop();
    redis.disconnect();
    await db.drop();
  }
}

if (MODES.join() === '2') {
  // A probe of the two-process mode alone: printed, not recorded (a row needs its baseline).
  console.log(JSON.stringify({ machine: machine(), twoProcess: await measureTwo() }, null, 2));
  process.exit(0);
}
const one = await measureOne();

// The accounting's overhead: one-process runs with the meter off and on, alternating.
type One = Awaited<ReturnType<typeof measureOne>>;
const costOf = (m: One) => ({
  ingestCpuMsPerUpdate: (m.cpu.ingest.coordinatorCpuSeconds[0] * 1000) / m.ingest.updates,
  assignCpuMsPerRequest:
    (m.cpu.assignment.coordinatorCpuSeconds[0] * 1000) /
    (m.assignment.paced.requests + m.assignment.unpaced.requests),
  ingestMBps: m.ingest.mbPerSec,
  unpacedUnitsPerSec: m.assignment.unpaced.achievedPerSec,
});
const median = (xs: number[]) => pct(xs, 50);
const meterRuns: { meter: 'on' | 'off'; cost: ReturnType<typeof costOf> }[] = [];
for (let k = 0; k < METER_PAIRS; k++)
  for (const meter of ['off', 'on'] as const) {
    process.stdout.write(`meter ${meter}, pair ${k + 1}/${METER_PAIRS}\n`);
    meterRuns.push({ meter, cost: costOf(await measureOne({ GRIDTAB_USAGE_METER: meter })) });
  }
const meterOverhead =
  METER_PAIRS > 0
    ? (() => {
        const side = (meter: 'on' | 'off') => {
          const runs = meterRuns.filter((r) => r.meter === meter).map((r) => r.cost);
          return Object.fromEntries(
            (Object.keys(runs[0]) as (keyof ReturnType<typeof costOf>)[]).map((k) => [
              k,
              median(runs.map((r) => r[k])),
            ]),
          ) as ReturnType<typeof costOf>;
        };
        const on = side('on');
        const off = side('off');
        return {
          note: 'medians of alternating one-process runs; positive = the meter costs that much more (CPU) or that much less throughput',
          pairs: METER_PAIRS,
          runs: meterRuns,
          on,
          off,
          ingestCpuPerUpdate: on.ingestCpuMsPerUpdate / off.ingestCpuMsPerUpdate - 1,
          assignCpuPerRequest: on.assignCpuMsPerRequest / off.assignCpuMsPerRequest - 1,
          ingestThroughputLoss: 1 - on.ingestMBps / off.ingestMBps,
          unpacedThroughputLoss: 1 - on.unpacedUnitsPerSec / off.unpacedUnitsPerSec,
        };
      })()
    : null;

const two = MODES.includes(2) ? await measureTwo() : null;

// 4. Aggregation beside a memory copy of the same bytes, in this process.
function aggregationBench(params: number, updates: number) {
  const base = new Float32Array(params);
  const ups = Array.from({ length: updates }, (_, k) => ({
    delta: new Float32Array(params).fill(k * 1e-3),
    numSamples: 10 + k,
  }));
  const agg = new WeightedMean();
  const out = new Float32Array(params);
  const time = (fn: () => void) => {
    fn();
    const t = performance.now();
    for (let r = 0; r < 5; r++) fn();
    return (performance.now() - t) / 5;
  };
  const aggMs = time(() => agg.aggregate(base, ups));
  const copyMs = time(() => {
    for (const u of ups) out.set(u.delta);
  });
  const gb = (params * 4 * updates) / 1e9;
  return {
    params,
    updates,
    aggregateMs: aggMs,
    copyMs,
    aggregateGBps: gb / (aggMs / 1000),
    copyGBps: gb / (copyMs / 1000),
    ratioToCopy: copyMs / aggMs,
  };
}
const aggregation = [aggregationBench(PARAMS, 32), aggregationBench(1_048_576, 16)];

const { paced, unpaced } = one.assignment;
const { held } = one.connections;
const perConnKB = one.connections.memoryPerConnectionKB;
const ingest = one.ingest;
const result = {
  machine: machine(),
  note: 'load generator and coordinator(s) share the same 2 cores (see cpu: seconds each used per phase)',
  connections: {
    ...one.connections,
    rssBeforeMB: one.connections.rssBeforeMB[0],
    rssConnectedMB: one.connections.rssConnectedMB[0],
  },
  assignment: one.assignment,
  ingest,
  cpu: one.cpu,
  aggregation,
  ...(meterOverhead && { meterOverhead }),
  ...(two && {
    twoProcess: {
      note: 'two coordinators sharing a fresh PostgreSQL database and Redis, one job owned by each; the one-process figures above use the embedded SQLite store',
      ...two,
      ratioToOneProcess: {
        connectionsHeld: two.connections.held / held,
        pacedUnitsPerSec: two.assignment.paced.achievedPerSec / paced.achievedPerSec,
        pacedP99: two.assignment.paced.p99Ms / paced.p99Ms,
        unpacedPerSec: two.assignment.unpaced.achievedPerSec / unpaced.achievedPerSec,
        unpacedP99: two.assignment.unpaced.p99Ms / unpaced.p99Ms,
        ingestMBps: two.ingest.mbPerSec / ingest.mbPerSec,
      },
    },
  }),
};
console.log(JSON.stringify(result, null, 2));
writeResults('load', result);
const a = aggregation[0];
const cpuText = (c: typeof one.cpu.assignment) =>
  `CPU over ${c.wallSeconds.toFixed(1)} s: generator ${c.generatorCpuSeconds.toFixed(1)} s, coordinator${c.coordinatorCpuSeconds.length > 1 ? 's' : ''} ${c.coordinatorCpuSeconds.map((x) => x.toFixed(1)).join(' + ')} s${c.coordinatorCpuSeconds.length > 1 ? `, PostgreSQL and Redis ${c.postgresAndRedisCpuSeconds.toFixed(1)} s` : ''}`;
const rows = [
  `| ${result.machine.date.slice(0, 10)} | 1 | ${held}/${N} held ${HOLD_S} s, ${perConnKB.toFixed(1)} KB each | ${paced.achievedPerSec.toFixed(0)}/s paced: p50 ${paced.p50Ms.toFixed(1)} ms, p99 ${paced.p99Ms.toFixed(1)} ms; unpaced ${unpaced.achievedPerSec.toFixed(0)}/s, p99 ${unpaced.p99Ms.toFixed(1)} ms (${cpuText(one.cpu.assignment)}) | ${ingest.mbPerSec.toFixed(1)} MB/s (${ingest.updates} x 407 KB, fsynced) | ${a.aggregateGBps.toFixed(2)} GB/s vs copy ${a.copyGBps.toFixed(2)} GB/s (${(a.ratioToCopy * 100).toFixed(0)}% of copy) |`,
];
if (two && result.twoProcess) {
  const r = result.twoProcess.ratioToOneProcess;
  const p2 = two.assignment.paced;
  const u2 = two.assignment.unpaced;
  rows.unshift(
    `| ${result.machine.date.slice(0, 10)} | 2 (PostgreSQL + Redis, one job each) | ${two.connections.held}/${N} held ${HOLD_S} s (${two.connections.heldPerProcess.join(' + ')}), ${two.connections.memoryPerConnectionKB.toFixed(1)} KB each; x${r.connectionsHeld.toFixed(2)} | ${p2.achievedPerSec.toFixed(0)}/s paced: p50 ${p2.p50Ms.toFixed(1)} ms, p99 ${p2.p99Ms.toFixed(1)} ms (p99 x${r.pacedP99.toFixed(2)}); unpaced ${u2.achievedPerSec.toFixed(0)}/s (x${r.unpacedPerSec.toFixed(2)}), p99 ${u2.p99Ms.toFixed(1)} ms (${cpuText(two.cpu.assignment)}) | ${two.ingest.mbPerSec.toFixed(1)} MB/s (${two.ingest.updates} x 407 KB into PostgreSQL; x${r.ingestMBps.toFixed(2)}) | measured once (row below) |`,
  );
}
addRows('bench:load rows', rows);
if (meterOverhead) {
  const pc = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const m = meterOverhead;
  addRows('bench:load meter rows', [
    `| ${result.machine.date.slice(0, 10)} | ${N} conns, ${m.pairs} off/on pairs | ${m.off.ingestCpuMsPerUpdate.toFixed(2)} / ${m.on.ingestCpuMsPerUpdate.toFixed(2)} ms (${pc(m.ingestCpuPerUpdate)}) | ${m.off.assignCpuMsPerRequest.toFixed(3)} / ${m.on.assignCpuMsPerRequest.toFixed(3)} ms (${pc(m.assignCpuPerRequest)}) | ${m.off.ingestMBps.toFixed(1)} / ${m.on.ingestMBps.toFixed(1)} MB/s (${pc(m.ingestThroughputLoss)} loss) | ${m.off.unpacedUnitsPerSec.toFixed(0)} / ${m.on.unpacedUnitsPerSec.toFixed(0)} (${pc(m.unpacedThroughputLoss)} loss) | ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} |`,
  ]);
}
process.exit(0);
