/**
 * bench:abuse's attacker, in a process of its own (building bodies and handling hundreds of
 * sockets costs CPU the coordinator's figures must not pay). `{ flood: n, addresses: k }`: n
 * socket.io clients, each with a random clientId, spread over k loopback source addresses
 * (127.0.0.1, 127.0.0.2...: k attackers, each with its own per-address limits), all connect and
 * join at once; replies with the outcome counts and joins per second admitted and refused, then
 * closes the sockets and waits `settleMs` so their disconnects fall inside the phase too.
 * `{ specs: true }`: every hostile spec of the shared table and every costly-but-legal one, all
 * posted at once to POST /api/jobs; replies with the statuses and error codes per spec kind.
 */
import { CONTRIBUTOR_NAMESPACE, PROTOCOL_VERSION, type Result } from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { COSTLY_SPECS } from '../../coordinator/src/http/costly-specs.ts';
import { HOSTILE_SPECS, hostileBody } from '../../coordinator/src/http/hostile-specs.ts';
import { TEST_JOB } from '../../coordinator/src/testing.ts';

const url = process.argv[2];
const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };

async function flood(n: number, addresses: number, settleMs: number) {
  const sockets: Socket[] = [];
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      // engine.io-client hands localAddress to ws (not in socket.io-client's option types).
      const options = {
        transports: ['websocket'],
        reconnection: false,
        localAddress: `127.0.0.${1 + (i % addresses)}`,
      };
      const s = io(`${url}${CONTRIBUTOR_NAMESPACE}`, options);
      sockets.push(s);
      const connected = await new Promise<boolean>((r) => {
        s.on('connect', () => r(true));
        s.on('connect_error', () => r(false));
      });
      if (!connected) return 'refused-connection';
      try {
        const r = (await s.timeout(30_000).emitWithAck('contributor:join', {
          protocolVersion: PROTOCOL_VERSION,
          clientId: `flood_${i}_${Math.random().toString(36).slice(2, 10)}`,
          backends: [{ name: 'cpu', available: true, samplesPerSec: 1 }],
          chosenBackend: 'cpu',
          kind: 'node',
        })) as Result<unknown>;
        return r.ok ? 'admitted' : r.error.code;
      } catch {
        return 'timeout';
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const s of sockets) s.close();
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  const admitted = counts.admitted ?? 0;
  const perSecond = (k: number) => Math.round(k / seconds);
  await new Promise((r) => setTimeout(r, settleMs));
  return {
    clients: n,
    addresses,
    seconds: Math.round(seconds * 100) / 100,
    outcomes: counts,
    // Refused: at the handshake (connection caps), by the join limit, or any other answer.
    joinsPerSecond: { admitted: perSecond(admitted), refused: perSecond(n - admitted) },
  };
}

async function post(body: string) {
  const t = performance.now();
  const res = await fetch(`${url}/api/jobs`, { method: 'POST', headers: ADMIN, body });
  const json = (await res.json()) as { error?: { code: string } };
  const ms = Math.round(performance.now() - t);
  return { status: res.status, code: json.error?.code ?? 'created', ms };
}

async function specs() {
  const hostile = HOSTILE_SPECS.map((spec) => hostileBody(spec, (model) => ({ ...TEST_JOB, model })));
  const costly = COSTLY_SPECS.map((spec) =>
    JSON.stringify({ ...TEST_JOB, name: spec.name, model: spec.model }),
  );
  // Twice each costly spec: 6 builds wait for the one build worker, inside the queue of 8.
  const [h, c] = await Promise.all([
    Promise.all(hostile.map(post)),
    Promise.all([...costly, ...costly].map(post)),
  ]);
  const tally = (rs: { status: number; code: string; ms: number }[]) => {
    const counts: Record<string, number> = {};
    for (const r of rs) counts[`${r.status} ${r.code}`] = (counts[`${r.status} ${r.code}`] ?? 0) + 1;
    return { sent: rs.length, answers: counts, slowestMs: Math.max(...rs.map((r) => r.ms)) };
  };
  return { hostile: tally(h), costly: tally(c) };
}

process.on(
  'message',
  async (m: { flood?: number; addresses?: number; settleMs?: number; specs?: boolean; stop?: boolean }) => {
    if (m.flood) process.send?.(await flood(m.flood, m.addresses ?? 1, m.settleMs ?? 0));
    else if (m.specs) process.send?.(await specs());
    else if (m.stop) process.exit(0);
  },
);
process.send?.({ ready: true });
