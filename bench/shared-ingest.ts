/**
 * Ingest for ONE job on one vs two coordinator processes (issue 17 part 3, docs/SCALING.md "One
 * job on several processes"). Both modes run on a fresh PostgreSQL database and Redis, so only
 * the number of processes differs. One job (created through the first process, which owns it)
 * with one round larger than the run; 16 clients per process each lease units (a non-owner's
 * come from the owner over the job bus), then the same number of fp32 updates of the MLP
 * (101,770 zero values, 407 KB) are sent with 16 in flight in all, spread evenly over the
 * processes; ingest MB/s is accepted bytes over the wall time of the sends.
 *
 *   node --import tsx bench/shared-ingest.ts [--updates 120] [--processes 1,2]
 */
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CONTRIBUTOR_NAMESPACE, MODEL_PRESETS, PROTOCOL_VERSION, sha256Hex } from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { createTestDatabase } from '../coordinator/src/storage/postgres/test-db.ts';
import { type CoordinatorProcess, startCoordinator } from '../e2e/coordinator.ts';

const { values } = parseArgs({
  options: {
    updates: { type: 'string', default: '120' },
    processes: { type: 'string', default: '1,2' },
  },
});
const UPDATES = Number(values.updates);
const MODES = values.processes.split(',').map(Number);
const IN_FLIGHT = 16;
const CLIENTS = 16;
const PARAMS = 101_770;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const freePort = async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
};

interface Leased {
  socket: Socket;
  unit: { leaseId: string; unitId: string; baseVersionId: string; jobId: string };
}

async function join(url: string, i: number): Promise<Socket> {
  const s = io(`${url}${CONTRIBUTOR_NAMESPACE}`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
  });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () =>
      s
        .timeout(60_000)
        .emitWithAck('contributor:join', {
          protocolVersion: PROTOCOL_VERSION,
          clientId: `ingest_${i}_${Math.random().toString(36).slice(2, 10)}`,
          backends: [{ name: 'cpu', available: true, samplesPerSec: 100 }],
          chosenBackend: 'cpu',
          kind: 'node',
        })
        .then((r: { ok: boolean }) => (r.ok ? resolve() : reject(new Error('join refused'))), reject),
    );
    s.once('connect_error', reject);
  });
  return s;
}

async function measure(processes: number) {
  const db = await createTestDatabase();
  const channel = `gridtab-ingest-${process.pid}-${Date.now()}`;
  const cos: CoordinatorProcess[] = [];
  const sockets: Socket[] = [];
  try {
    for (let k = 0; k < processes; k++) {
      const port = await freePort();
      cos.push(
        await startCoordinator({
          PORT: String(port),
          HOST: '127.0.0.1',
          // Where the owner is: a non-owner takes an update in only while the owner's key names one.
          GRIDTAB_PUBLIC_URL: `http://127.0.0.1:${port}`,
          DATABASE_URL: db.url,
          REDIS_URL,
          GRIDTAB_REDIS_CHANNEL: channel,
          GRIDTAB_OWNER_TTL_MS: '10000',
          GRIDTAB_MAX_CONNECTIONS_PER_ADDRESS: '0',
        }),
      );
    }
    const job = await cos[0].createJob({
      name: 'ingest',
      model: MODEL_PRESETS['fashion-mlp'],
      dataset: 'fashion-mnist',
      hyperparameters: { batchSize: 10, localSteps: 1, learningRate: 0.001, optimizer: 'adam' },
      rounds: { unitsPerRound: UPDATES * 2, quorum: 1, deadlineMs: 86_400_000, leaseMs: 3_600_000 },
      stopping: { maxRounds: 1000 },
    });
    for (let k = 0; k < processes; k++)
      for (let c = 0; c < CLIENTS; c++) sockets.push(await join(cos[k].url, k * CLIENTS + c));
    // Leases: UPDATES / processes through each process's clients.
    const perProcess = Math.ceil(UPDATES / processes);
    const leased: Leased[][] = [];
    for (let k = 0; k < processes; k++) {
      const mine = sockets.slice(k * CLIENTS, (k + 1) * CLIENTS);
      const got: Leased[] = [];
      for (let tries = 0; got.length < perProcess && tries < perProcess * 20; tries++) {
        const socket = mine[tries % mine.length];
        const r = await socket.timeout(30_000).emitWithAck('unit:request', {});
        if (r.ok && r.data.unit?.jobId === job.id) got.push({ socket, unit: r.data.unit });
        else await new Promise((done) => setTimeout(done, 50));
      }
      if (got.length < perProcess)
        throw new Error(`process ${k}: ${got.length} of ${perProcess} units leased`);
      leased.push(got);
    }
    const payload = new Uint8Array(PARAMS * 4);
    const checksum = await sha256Hex(payload);
    const accepted = cos.map(() => 0);
    const refused: string[] = [];
    const load = loadavg()[0];
    const started = performance.now();
    // IN_FLIGHT senders in all, each bound to one process's leases.
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async (_, w) => {
        const k = w % processes;
        const queue = leased[k];
        for (let next = queue.shift(); next; next = queue.shift()) {
          const { socket, unit } = next;
          const r = await socket.timeout(120_000).emitWithAck(
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
          if (r.ok) accepted[k]++;
          else refused.push(r.error.code);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const total = accepted.reduce((a, b) => a + b, 0);
    return {
      processes,
      updates: total,
      acceptedPerProcess: accepted,
      refused,
      seconds,
      mbPerSec: (total * payload.byteLength) / 1e6 / seconds,
      loadAtStart: load,
      loadAtEnd: loadavg()[0],
    };
  } finally {
    for (const s of sockets) s.disconnect();
    for (const co of cos) await co.stop();
    await db.drop();
  }
}

const results = [];
for (const n of MODES) {
  const r = await measure(n);
  results.push(r);
  console.log(JSON.stringify(r));
}
for (const r of results)
  console.log(
    `${r.processes} process(es): ${r.updates} x 407 KB in ${r.seconds.toFixed(2)} s = ${r.mbPerSec.toFixed(1)} MB/s ` +
      `(per process ${r.acceptedPerProcess.join(' + ')}; refused ${r.refused.length}); load ${r.loadAtStart.toFixed(1)}-${r.loadAtEnd.toFixed(1)}`,
  );
process.exit(0);
