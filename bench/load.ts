/**
 * `npm run bench:load`: simulated contributors (socket.io clients speaking the real protocol
 * with synthetic updates) against one coordinator process. Measures connections held with
 * heartbeats and the coordinator's memory per connection, units assigned per second with
 * assignment latency p50/p99 at a paced 1,000 units/s and unpaced, update ingest in MB/s, and
 * FedAvg aggregation throughput beside a plain memory copy of the same bytes, in the same run.
 * The load generator runs on the same 2 cores as the coordinator; the numbers say so.
 * Options: --connections N (default 10000), --hold S (seconds to hold them, default 30).
 */
import { parseArgs } from 'node:util';
import { CONTRIBUTOR_NAMESPACE, MODEL_PRESETS, PROTOCOL_VERSION, sha256Hex } from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { FedAvg } from '../coordinator/src/aggregation/fedavg.ts';
import { startCoordinator } from '../e2e/coordinator.ts';
import { addRows, machine, writeResults } from './report.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    hold: { type: 'string', default: '30' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: npm run bench:load -- [--connections N] [--hold SECONDS]');
  process.exit(0);
}
const N = Number(values.connections);
const HOLD_S = Number(values.hold);
const PARAMS = 101_770;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const co = await startCoordinator();
const rss = async () => {
  const text = await (await fetch(`${co.url}/metrics`)).text();
  return Number(/^gridtab_process_resident_memory_bytes (\S+)/m.exec(text)?.[1] ?? Number.NaN);
};

// 1. Connections, joined, held across heartbeats.
const rssBefore = await rss();
const sockets: Socket[] = [];
const connectStarted = performance.now();
for (let i = 0; i < N; i += 250) {
  const batch = Array.from({ length: Math.min(250, N - i) }, (_, j) => {
    const s = io(`${co.url}${CONTRIBUTOR_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    sockets.push(s);
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
          .then((r: { ok: boolean }) => (r.ok ? resolve() : reject(new Error('join refused'))), reject),
      );
      s.once('connect_error', reject);
    });
  });
  await Promise.all(batch);
  process.stdout.write(`\rconnected ${sockets.length}/${N}   `);
}
const connectSeconds = (performance.now() - connectStarted) / 1000;
const rssConnected = await rss();
process.stdout.write(`\nholding ${N} connections for ${HOLD_S} s (socket.io heartbeats every 25 s)\n`);
await sleep(HOLD_S * 1000);
const held = sockets.filter((s) => s.connected).length;

// 2. Assignment: a job with 10,000 units a round and long leases, requested by 200 clients.
await co.createJob({
  name: 'load',
  model: MODEL_PRESETS['fashion-mlp'],
  dataset: 'fashion-mnist',
  hyperparameters: { batchSize: 10, localSteps: 1, learningRate: 0.001, optimizer: 'adam' },
  rounds: { unitsPerRound: 10_000, quorum: 1, deadlineMs: 86_400_000, leaseMs: 3_600_000 },
  stopping: { maxRounds: 1000 },
});
const requesters = sockets.slice(0, 200);
const leases: { socket: Socket; unit: { leaseId: string; unitId: string; baseVersionId: string } }[] = [];
const request = async (s: Socket) => {
  const t = performance.now();
  const r = await s.timeout(30_000).emitWithAck('unit:request', {});
  const ms = performance.now() - t;
  if (r.ok && r.data.unit) leases.push({ socket: s, unit: r.data.unit });
  return ms;
};
async function assignAt(rate: number | null, seconds: number) {
  const lat: number[] = [];
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
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    requests: lat.length,
  };
}
const paced = await assignAt(1000, 4);
const unpaced = await assignAt(null, 3);

// 3. Ingest: zero-delta fp32 updates (the MLP's 101,770 values, 407 KB) for leased units.
const payload = new Uint8Array(PARAMS * 4);
const checksum = await sha256Hex(payload);
const toSubmit = leases.slice(0, 120);
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
const ingest = {
  updates: accepted,
  bytesEach: payload.byteLength,
  seconds: ingestSeconds,
  mbPerSec: (accepted * payload.byteLength) / 1e6 / ingestSeconds,
};

for (const s of sockets) s.disconnect();
await co.stop();

// 4. Aggregation beside a memory copy of the same bytes, in this process.
function aggregationBench(params: number, updates: number) {
  const base = new Float32Array(params);
  const ups = Array.from({ length: updates }, (_, k) => ({
    delta: new Float32Array(params).fill(k * 1e-3),
    numSamples: 10 + k,
  }));
  const agg = new FedAvg();
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

const perConnKB = (rssConnected - rssBefore) / N / 1024;
const result = {
  machine: machine(),
  note: 'load generator and coordinator share the same 2 cores',
  connections: {
    requested: N,
    connectSeconds,
    heldAfterSeconds: HOLD_S,
    held,
    rssBeforeMB: rssBefore / 1e6,
    rssConnectedMB: rssConnected / 1e6,
    memoryPerConnectionKB: perConnKB,
  },
  assignment: { paced, unpaced },
  ingest,
  aggregation,
};
console.log(JSON.stringify(result, null, 2));
writeResults('load', result);
const a = aggregation[0];
addRows('bench:load rows', [
  `| ${result.machine.date.slice(0, 10)} | 1 | ${held}/${N} held ${HOLD_S} s, ${perConnKB.toFixed(1)} KB each | ${paced.achievedPerSec.toFixed(0)}/s paced: p50 ${paced.p50Ms.toFixed(1)} ms, p99 ${paced.p99Ms.toFixed(1)} ms; unpaced ${unpaced.achievedPerSec.toFixed(0)}/s, p99 ${unpaced.p99Ms.toFixed(1)} ms | ${ingest.mbPerSec.toFixed(1)} MB/s (${ingest.updates} x 407 KB, fsynced) | ${a.aggregateGBps.toFixed(2)} GB/s vs copy ${a.copyGBps.toFixed(2)} GB/s (${(a.ratioToCopy * 100).toFixed(0)}% of copy) |`,
]);
process.exit(0);
