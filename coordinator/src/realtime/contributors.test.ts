import { createHash } from 'node:crypto';
import {
  ask,
  CONTRIBUTOR_NAMESPACE,
  type ContributorClientEvents,
  type ContributorServerEvents,
  MAX_UPDATE_BYTES,
  PROTOCOL_VERSION,
  type Result,
  type WorkUnit,
} from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';

const PARAMS = 101_770;
const ACK_MS = 10_000;

/** A tab that follows the protocol: the event maps in shared/ type what it sends and hears. */
type ContributorSocket = Socket<ContributorServerEvents, ContributorClientEvents>;

describe('contributor socket boundary', () => {
  let co: TestCoordinator;
  const sockets: Socket[] = [];

  /** Untyped (socket.io's default maps), so the hostile cases can send what no map allows. */
  const connect = async (): Promise<Socket> => {
    const s = io(`${co.url}${CONTRIBUTOR_NAMESPACE}`, { transports: ['websocket'], reconnection: false });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.on('connect', resolve);
      s.on('connect_error', reject);
    });
    return s;
  };
  /** A hostile or broken tab's message: any event, any arguments. */
  const hostile = (s: Socket, event: string, ...args: unknown[]): Promise<Result<unknown>> =>
    ask(s, ACK_MS, (x) => x.emitWithAck(event, ...args));
  const join = (s: ContributorSocket, clientId = `client_${Math.random().toString(36).slice(2, 12)}`) =>
    ask(s, ACK_MS, (x) =>
      x.emitWithAck('contributor:join', {
        protocolVersion: PROTOCOL_VERSION,
        clientId,
        backends: [{ name: 'cpu', available: true, samplesPerSec: 100 }],
        chosenBackend: 'cpu',
        kind: 'node',
      }),
    );
  /** The id the coordinator gave a join; fails the test when the join was refused. */
  const joined = async (s: ContributorSocket, clientId?: string): Promise<string> => {
    const r = await join(s, clientId);
    if (!r.ok) throw new Error(`join refused: ${r.error.code}`);
    return r.data.contributorId;
  };
  const request = (s: ContributorSocket) => ask(s, ACK_MS, (x) => x.emitWithAck('unit:request', {}));
  /** The unit offered to `s`; fails the test when none is. */
  const offered = async (s: ContributorSocket): Promise<WorkUnit> => {
    const r = await request(s);
    if (!r.ok || !r.data.unit) throw new Error(`no unit offered: ${JSON.stringify(r)}`);
    return r.data.unit;
  };
  const release = (s: ContributorSocket, leaseId: string) =>
    ask(s, ACK_MS, (x) => x.emitWithAck('unit:release', { leaseId }));
  const submit = (s: ContributorSocket, u: WorkUnit, payload: Uint8Array) =>
    ask(s, ACK_MS, (x) => x.emitWithAck('unit:submit', updateMetaFor(u, payload), payload));
  /** Update metadata with fields a case changes, malformed ones included. */
  const meta = (u: WorkUnit, extra: object = {}) => ({
    leaseId: u.leaseId,
    unitId: u.unitId,
    baseVersionId: u.baseVersionId,
    numSamples: 320,
    codec: 'fp32',
    loss: 1,
    trainMs: 5,
    backend: 'cpu',
    ...extra,
  });
  /** The checksum of the payload as sent, unless the case brings its own. */
  const signed = (m: unknown, payload: unknown) =>
    m && typeof m === 'object' && !('checksum' in m) && payload instanceof Uint8Array
      ? { ...m, checksum: createHash('sha256').update(payload).digest('hex') }
      : m;
  const codeOf = (r: Result<unknown>) => (r.ok ? 'ok' : r.error.code);

  beforeAll(async () => {
    co = await startTestCoordinator();
    await addJob(co, { rounds: { unitsPerRound: 20, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 } });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await co.destroy();
  });

  it('refuses work messages before join, bad joins and other protocol versions', async () => {
    const s = await connect();
    expect(codeOf(await request(s))).toBe('NOT_JOINED');
    expect(codeOf(await hostile(s, 'contributor:join', { hello: 1 }))).toBe('BAD_REQUEST');
    expect(codeOf(await hostile(s, 'contributor:join', 'not an object'))).toBe('BAD_REQUEST');
    const wrong = await hostile(s, 'contributor:join', {
      protocolVersion: PROTOCOL_VERSION + 1,
      clientId: 'client_abcdefgh',
      backends: [],
      chosenBackend: 'cpu',
    });
    expect(codeOf(wrong)).toBe('PROTOCOL_MISMATCH');
  });

  it('refuses every kind of bad update with its code while a good contributor carries on', async () => {
    const bad = await connect();
    const good = await connect();
    expect((await join(bad)).ok).toBe(true);
    expect((await join(good)).ok).toBe(true);
    const unit = await offered(bad);
    const goodUnit = await offered(good);
    const nan = new Float32Array(PARAMS);
    nan[7] = Number.POSITIVE_INFINITY;
    const cases: [unknown, unknown, string][] = [
      [{ leaseId: unit.leaseId }, new Uint8Array(PARAMS * 4), 'BAD_REQUEST'],
      [meta(unit, { numSamples: -5 }), new Uint8Array(PARAMS * 4), 'BAD_REQUEST'],
      [meta(unit, { codec: 'zip' }), new Uint8Array(PARAMS * 4), 'BAD_REQUEST'],
      [meta(unit), 'not binary', 'BAD_REQUEST'],
      [meta(unit), new Uint8Array(MAX_UPDATE_BYTES + 4), 'PAYLOAD_TOO_LARGE'],
      [meta(unit), new Uint8Array(100), 'WRONG_SHAPE'],
      [meta(unit), new Uint8Array(PARAMS * 4 + 2), 'UNDECODABLE_UPDATE'],
      [meta(unit, { codec: 'int8' }), new Uint8Array(PARAMS * 4), 'UNDECODABLE_UPDATE'],
      [meta(unit, { checksum: 'ab'.repeat(32) }), new Uint8Array(PARAMS * 4), 'CHECKSUM_MISMATCH'],
      [meta(unit), new Uint8Array(nan.buffer), 'NON_FINITE'],
      [meta(unit, { leaseId: 'l-forged' }), new Uint8Array(PARAMS * 4), 'LEASE_UNKNOWN'],
      [meta(goodUnit), new Uint8Array(PARAMS * 4), 'LEASE_UNKNOWN'], // someone else's lease
    ];
    for (const [m, payload, code] of cases) {
      expect(codeOf(await hostile(bad, 'unit:submit', signed(m, payload), payload)), code).toBe(code);
    }
    expect(await co.store.listUpdates(unit.jobId, unit.round)).toEqual([]);
    // The bad socket is still connected and the good contributor is unaffected.
    expect(bad.connected).toBe(true);
    const goodPayload = new Uint8Array(PARAMS * 4);
    const accepted = await submit(good, goodUnit, goodPayload);
    expect(accepted).toMatchObject({ ok: true, data: { accepted: true } });
    expect((await co.store.listUpdates(unit.jobId, unit.round)).map((u) => u.unitId)).toEqual([
      goodUnit.unitId,
    ]);
    const text = await (await fetch(`${co.url}/metrics`)).text();
    expect(text).toMatch(/gridtab_updates_rejected_total\{code="WRONG_SHAPE"\} 1/);
  });

  it('frees a lease given back and a departed contributor’s leases after the grace period', async () => {
    const s = await connect();
    await joined(s);
    const unit = await offered(s);
    expect(await release(s, unit.leaseId)).toEqual({
      ok: true,
      data: { released: true },
    });
    expect(co.scheduler.roundOf(unit.jobId)!.units.find((u) => u.id === unit.unitId)!.status).toBe('pending');

    const leaving = await connect();
    await joined(leaving);
    const held = await offered(leaving);
    leaving.disconnect();
    const unitState = () => co.scheduler.roundOf(held.jobId)!.units.find((u) => u.id === held.unitId)!.status;
    expect(unitState()).toBe('leased');
    await expect.poll(unitState, { timeout: co.config.disconnectGraceMs + 5000 }).toBe('pending');
  });

  it('uses a result a tab brings back after the grace period unless someone else delivered first', async () => {
    const statusOf = (u: WorkUnit) => () =>
      co.scheduler.roundOf(u.jobId)!.units.find((x) => x.id === u.unitId)!.status;
    const gone = async (clientId: string) => {
      const s = await connect();
      const contributorId = await joined(s, clientId);
      const unit = await offered(s);
      s.disconnect();
      await expect.poll(statusOf(unit), { timeout: co.config.disconnectGraceMs + 5000 }).toBe('pending');
      return { unit, contributorId };
    };
    const payload = new Uint8Array(PARAMS * 4);
    const submitted = (s: ContributorSocket, u: WorkUnit) => submit(s, u, payload);

    // Nobody delivered the unit: the reloaded tab (same clientId, new socket) is heard.
    const first = await gone('client_reloaded_a');
    const back = await connect();
    expect(await joined(back, 'client_reloaded_a')).toBe(first.contributorId);
    expect(await submitted(back, first.unit)).toMatchObject({ ok: true, data: { accepted: true } });
    expect(statusOf(first.unit)()).toBe('done');

    // Another tab took the unit and delivered it first: the returning tab is too late.
    const second = await gone('client_reloaded_b');
    const other = await connect();
    await joined(other);
    let taken: WorkUnit | null = null;
    for (let i = 0; i < 20 && taken?.unitId !== second.unit.unitId; i++) {
      const offer = await request(other);
      taken = offer.ok ? offer.data.unit : null;
    }
    expect(taken?.unitId).toBe(second.unit.unitId);
    expect(await submitted(other, taken!)).toMatchObject({ ok: true });
    const late = await connect();
    await joined(late, 'client_reloaded_b');
    expect(codeOf(await submitted(late, second.unit))).toBe('LEASE_UNKNOWN');
    const updates = await co.store.listUpdates(first.unit.jobId, first.unit.round);
    const by = new Map(updates.map((u) => [u.unitId, u.contributorId]));
    expect(by.get(first.unit.unitId)).toBe(first.contributorId);
    expect(by.get(second.unit.unitId)).not.toBe(second.contributorId);
  });
});
