/**
 * The per-address limits hold across processes: two coordinator processes on one Redis (each
 * with its own SQLite store; the limits need only Redis) take joins and failed tokens from one
 * address out of the same buckets. The address is a random IPv6 documentation address sent as
 * X-Forwarded-For through loopback (a trusted proxy here), so runs never share a bucket. A third
 * process on another GRIDTAB_REDIS_CHANNEL (another deployment sharing the Redis) keeps its own.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTRIBUTOR_NAMESPACE, PROTOCOL_VERSION, type Result } from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, spawnCoordinator, writeSyntheticDataset } from '../testing.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN = 'shared-limits-admin';

describe('rate limits shared by two coordinator processes through Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-limits-'));
  const children: ChildProcess[] = [];
  const sockets: Socket[] = [];
  afterAll(() => {
    for (const s of sockets) s.close();
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (name: string, env: Record<string, string> = {}) => {
    const port = await freePort();
    const proc = await spawnCoordinator(name, port, {
      DATA_DIR: join(dir, name),
      FASHION_MNIST_DIR: dir,
      ADMIN_TOKEN: ADMIN,
      REDIS_URL,
      GRIDTAB_PUBLIC_URL: `http://127.0.0.1:${port}`,
      GRIDTAB_TRUSTED_PROXIES: '127.0.0.1',
      GRIDTAB_JOIN_BURST: '3',
      GRIDTAB_JOINS_PER_MINUTE: '0',
      GRIDTAB_AUTH_FAILURES_PER_MINUTE: '1',
      ...env,
    });
    children.push(proc);
    return `http://127.0.0.1:${port}`;
  };

  it('refuses the address on both processes once the two together used its burst', async () => {
    writeSyntheticDataset(dir);
    const [a, b, other] = await Promise.all([
      start('a'),
      start('b'),
      // Another deployment on the same Redis, under a channel of its own: its buckets are its own.
      start('other', { GRIDTAB_REDIS_CHANNEL: `gridtab-other-${randomBytes(4).toString('hex')}` }),
    ]);
    const from = `2001:db8::${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;

    // Failed tokens: a burst of 10 per address; 6 wrong on A and 4 on B use it up.
    const guess = async (url: string, token: string) =>
      (
        await fetch(`${url}/api/jobs`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'x-forwarded-for': from,
          },
          body: '{}',
        })
      ).status;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(await guess(i < 6 ? a : b, `guess-${i}`));
    expect(statuses).toEqual(Array(10).fill(401));
    expect([await guess(a, 'guess-a'), await guess(b, 'guess-b'), await guess(b, ADMIN)]).toEqual([
      429, 429, 429,
    ]);
    expect(await guess(other, ADMIN)).toBe(400); // the token is right, the empty spec is not

    // Joins: a burst of 3 per address, never refilled; 2 on A and 1 on B use it up.
    const join = async (url: string, i: number) => {
      const s = io(`${url}${CONTRIBUTOR_NAMESPACE}`, {
        transports: ['websocket'],
        reconnection: false,
        extraHeaders: { 'x-forwarded-for': from },
      });
      sockets.push(s);
      await new Promise<void>((r, f) => {
        s.on('connect', () => r());
        s.on('connect_error', f);
      });
      const r = (await s.timeout(10_000).emitWithAck('contributor:join', {
        protocolVersion: PROTOCOL_VERSION,
        clientId: `shared_limit_${i}_${randomBytes(4).toString('hex')}`,
        backends: [{ name: 'cpu', available: true, samplesPerSec: 100 }],
        chosenBackend: 'cpu',
        kind: 'node',
      })) as Result<unknown>;
      return r.ok ? 'ok' : r.error.code;
    };
    const codes = [await join(a, 0), await join(b, 1), await join(a, 2), await join(b, 3), await join(a, 4)];
    expect(codes).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(await join(other, 5)).toBe('ok');
  }, 120_000);
});
