import { rmSync } from 'node:fs';
import { CONTRIBUTOR_NAMESPACE, PROTOCOL_VERSION } from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../storage/sqlite-store.ts';
import type { ContributorJoin, ContributorRecord } from '../storage/store.ts';
import { startTestCoordinator, type TestCoordinator } from '../testing.ts';
import { JoinWrites } from './join-writes.ts';

/** A store that answers every batch with made-up rows and remembers each batch it was given. */
function countingStore() {
  const batches: ContributorJoin[][] = [];
  return {
    batches,
    async upsertContributors(joins: ContributorJoin[]): Promise<ContributorRecord[]> {
      batches.push(joins);
      return joins.map((j) => ({
        id: `c-${j.clientId}`,
        clientId: j.clientId,
        backend: j.backend,
        unitsDone: 0,
        samplesDone: 0,
        firstSeen: j.now,
        lastSeen: j.now,
      }));
    },
  };
}
// No timer ever fires in these cases: batches are written when full, or by flush/close.
const NEVER = { flushMs: 3_600_000, maxBatch: 10, answersPerTurn: 4 };

describe('JoinWrites: contributor rows of joins, a batch at a time', () => {
  it('writes one batch per maxBatch joins and the rest at close, each join answered with its row', async () => {
    const store = countingStore();
    const writes = new JoinWrites(store, NEVER);
    const answers = Array.from({ length: 25 }, (_, i) =>
      writes.upsert(`k${i}`, 'wasm', '2026-01-01T00:00:00Z'),
    );
    await Promise.all(answers.slice(0, 20));
    expect(store.batches.map((b) => b.length)).toEqual([10, 10]);
    expect(writes.queued).toBe(5);
    await writes.close();
    expect(store.batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect((await Promise.all(answers)).map((r) => r.clientId)).toEqual(
      Array.from({ length: 25 }, (_, i) => `k${i}`),
    );
  });

  it('coalesces joins of one client id into one upsert with the latest values', async () => {
    const store = countingStore();
    const writes = new JoinWrites(store, NEVER);
    const first = writes.upsert('same', 'wasm', '2026-01-01T00:00:00Z');
    const second = writes.upsert('same', 'webgpu', '2026-01-01T00:00:01Z');
    await writes.flush();
    expect(store.batches).toEqual([[{ clientId: 'same', backend: 'webgpu', now: '2026-01-01T00:00:01Z' }]]);
    expect((await first).id).toBe((await second).id);
  });

  it('refuses every join of a batch the store could not write, and writes the next batch', async () => {
    const store = countingStore();
    let fail = true;
    const writes = new JoinWrites(
      {
        upsertContributors: (joins) =>
          fail ? Promise.reject(new Error('disk full')) : store.upsertContributors(joins),
      },
      NEVER,
    );
    const lost = [writes.upsert('a', null, 'x'), writes.upsert('b', null, 'x')];
    await writes.flush();
    for (const p of lost) await expect(p).rejects.toThrow('disk full');
    fail = false;
    const later = writes.upsert('c', null, 'x');
    await writes.flush();
    expect((await later).clientId).toBe('c');
  });

  it('on SQLite: many joins become rows in one transaction, and the store fsyncs again afterwards', async () => {
    const store = new SqliteStore(':memory:');
    const writes = new JoinWrites(store, { flushMs: 5, maxBatch: 500, answersPerTurn: 32 });
    const records = await Promise.all(
      Array.from({ length: 200 }, (_, i) => writes.upsert(`s${i}`, 'cpu', 't')),
    );
    expect(new Set(records.map((r) => r.id)).size).toBe(200);
    expect(await store.listContributors()).toHaveLength(200);
    // 200 joins within the flush window: one batch, not 200 transactions.
    expect(writes.stats).toMatchObject({ batches: 1, rows: 200 });
    await store.close();
  });
});

describe('a coordinator writes queued join rows when it closes', () => {
  let co: TestCoordinator | null = null;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets) s.close();
    await co?.destroy();
  });

  it('joins waiting for their batch at shutdown are in the store after close', async () => {
    const store = new SqliteStore(':memory:');
    co = await startTestCoordinator({}, { store, joinWrites: NEVER });
    for (let i = 0; i < 25; i++) {
      const s = io(`${co.url}${CONTRIBUTOR_NAMESPACE}`, { transports: ['websocket'], reconnection: false });
      sockets.push(s);
      s.emit('contributor:join', {
        protocolVersion: PROTOCOL_VERSION,
        clientId: `shutdown_${i}`,
        backends: [{ name: 'cpu', available: true, samplesPerSec: 1 }],
        chosenBackend: 'cpu',
        kind: 'node',
      });
    }
    // Two full batches written at once; five joins wait for a timer that never fires.
    await vi.waitFor(() => expect(co!.joinWrites.stats.rows + co!.joinWrites.queued).toBe(25), {
      timeout: 30_000,
    });
    expect(co.joinWrites.stats.rows).toBe(20);
    const dir = co.dir;
    await co.close();
    co = null;
    rmSync(dir, { recursive: true, force: true });
    expect((await store.listContributors()).map((c) => c.clientId).sort()).toEqual(
      Array.from({ length: 25 }, (_, i) => `shutdown_${i}`).sort(),
    );
    await store.close();
  });
});
