/**
 * `unit:request` with `waitMs` over a real socket: held while no unit is free and answered with
 * one as soon as one opens (a lease given back, the next round); answered with no unit once the
 * wait ends; a wait out of range is refused with BAD_REQUEST and holds nothing.
 */
import {
  ask,
  CONTRIBUTOR_NAMESPACE,
  type ContributorClientEvents,
  type ContributorServerEvents,
  PROTOCOL_VERSION,
  type WorkUnit,
} from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';

const ACK_MS = 30_000;
/** The test job's model (the Fashion-MNIST MLP). */
const PARAMS = 101_770;
type ContributorSocket = Socket<ContributorServerEvents, ContributorClientEvents>;

describe('held unit requests', () => {
  let co: TestCoordinator;
  const sockets: ContributorSocket[] = [];

  const tab = async (): Promise<ContributorSocket> => {
    const s: ContributorSocket = io(`${co.url}${CONTRIBUTOR_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
    });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.on('connect', resolve);
      s.on('connect_error', reject);
    });
    const joined = await ask(s, ACK_MS, (x) =>
      x.emitWithAck('contributor:join', {
        protocolVersion: PROTOCOL_VERSION,
        clientId: `client_${Math.random().toString(36).slice(2, 12)}`,
        backends: [{ name: 'cpu', available: true, samplesPerSec: 100 }],
        chosenBackend: 'cpu',
        kind: 'node',
      }),
    );
    if (!joined.ok) throw new Error(`join refused: ${joined.error.code}`);
    return s;
  };
  const request = (s: ContributorSocket, msg: object) =>
    ask(s, ACK_MS, (x) => x.emitWithAck('unit:request', msg as { waitMs?: number }));
  const unitOf = async (answer: ReturnType<typeof request>): Promise<WorkUnit> => {
    const r = await answer;
    if (!r.ok || !r.data.unit) throw new Error(`no unit: ${JSON.stringify(r)}`);
    return r.data.unit;
  };

  beforeAll(async () => {
    co = await startTestCoordinator();
    // One unit a round: while one tab holds it, the other has nothing to do.
    await addJob(co, { rounds: { unitsPerRound: 1, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 } });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await co.destroy();
  });

  it('answers a held request when a lease is given back, and when the next round opens', async () => {
    const a = await tab();
    const b = await tab();
    const first = await unitOf(request(a, {}));
    // b waits, held: nothing is free while a holds the round's unit.
    const held = unitOf(request(b, { waitMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 100));
    const released = await ask(a, ACK_MS, (x) => x.emitWithAck('unit:release', { leaseId: first.leaseId }));
    expect(released.ok && released.data.released).toBe(true);
    const second = await held;
    expect(second.unitId).toBe(first.unitId);
    expect(second.leaseId).not.toBe(first.leaseId);
    // a waits now; b's update closes round 1, and a's request is answered with round 2's unit.
    const next = unitOf(request(a, { waitMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 100));
    const payload = new Uint8Array(PARAMS * 4);
    const ack = await ask(b, ACK_MS, (x) =>
      x.emitWithAck('unit:submit', updateMetaFor(second, payload), payload),
    );
    expect(ack.ok).toBe(true);
    const third = await next;
    expect(third.round).toBe(second.round + 1);
    expect(third.baseVersionId).not.toBe(second.baseVersionId);
  });

  it('answers with no unit once the wait is over, and refuses a wait out of range', async () => {
    const a = await tab();
    const b = await tab();
    // The round's one unit is a's now, if the last test did not leave it leased already.
    await request(a, {});
    const waited = await request(b, { waitMs: 200 });
    expect(waited.ok && waited.data.unit === null && waited.data.retryMs > 0).toBe(true);
    for (const waitMs of [-1, 1.5, 10 ** 9, 'soon']) {
      const r = await request(b, { waitMs });
      expect(r.ok ? 'ok' : r.error.code).toBe('BAD_REQUEST');
    }
  });
});
