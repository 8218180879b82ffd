/**
 * The contributor namespace. Every inbound message is parsed with the shared zod schemas
 * before it reaches the scheduler; every acknowledgement is a Result, never a thrown error,
 * so one bad tab cannot disturb the socket server or anyone else.
 */
import {
  type Ack,
  CONTRIBUTOR_NAMESPACE,
  type ConsoleDevice,
  type ContributorClientEvents,
  type ContributorServerEvents,
  chunkHeaderSchema,
  type ErrorCode,
  fail,
  GridTabError,
  joinSchema,
  MAX_UPDATE_BYTES,
  ok,
  PROTOCOL_VERSION,
  progressSchema,
  releaseSchema,
  unitRequestSchema,
  updateMetaSchema,
} from '@gridtab/shared';
import type { Namespace, Socket } from 'socket.io';
import type { z } from 'zod';
import type { Coordinator } from '../app.ts';
import { ChunkAssembler } from './chunks.ts';
import { HeldRequests } from './held-requests.ts';
import type { GridTabServer, InterServerEvents } from './server.ts';
import { WakeList } from './wake-list.ts';

export interface ContributorSocketData {
  contributorId?: string;
  samplesPerSec?: number;
  /** What the join message said about the device, for the console. */
  device?: ConsoleDevice;
}

type ContributorNamespace = Namespace<
  ContributorClientEvents,
  ContributorServerEvents,
  InterServerEvents,
  ContributorSocketData
>;
type ContributorSocket = Socket<
  ContributorClientEvents,
  ContributorServerEvents,
  InterServerEvents,
  ContributorSocketData
>;

/** What the contributor namespace uses of the coordinator. */
export type ContributorsDeps = Pick<
  Coordinator,
  'clock' | 'config' | 'metrics' | 'scheduler' | 'log' | 'guard' | 'store' | 'outcomes' | 'joinWrites'
>;

export function attachContributors(io: GridTabServer, co: ContributorsDeps) {
  const nsp: ContributorNamespace = io.of(CONTRIBUTOR_NAMESPACE);
  const graceTimers = new Map<string, NodeJS.Timeout>();
  // Two open uploads per contributor (one being sent, one retried) and room for 16 full ones.
  const chunks = new ChunkAssembler(
    {
      maxUploadBytes: MAX_UPDATE_BYTES,
      maxOpenPerOwner: 2,
      maxTotalBytes: 16 * MAX_UPDATE_BYTES,
      ttlMs: 120_000,
    },
    co.clock,
  );
  const maxMessageBytes = co.config.socketMessageBytes;
  const online = new Map<string, number>(); // contributorId -> sockets joined

  const updateGauges = () => {
    let sum = 0;
    for (const s of nsp.sockets.values()) sum += s.data.samplesPerSec ?? 0;
    co.metrics.contributorSamplesPerSec.set(sum);
    co.metrics.contributorsConnected.set([...online.values()].reduce((a, b) => a + b, 0));
  };

  /** Drops the contributor's sockets on this process and frees the leases this process holds. */
  const kickHere = (contributorId: string): number => {
    let sockets = 0;
    for (const s of [...nsp.sockets.values()]) {
      if (s.data.contributorId !== contributorId) continue;
      // Only this namespace's socket: `true` would close the whole connection, which a
      // client multiplexes with its other namespaces (a console in the same Node process).
      s.disconnect();
      sockets++;
    }
    clearTimeout(graceTimers.get(contributorId));
    graceTimers.delete(contributorId);
    const freed = co.scheduler.releaseAll(contributorId);
    co.log(`contributor ${contributorId} kicked: ${sockets} socket(s) closed, ${freed} lease(s) freed`);
    return sockets;
  };
  // Another process was asked to kick: do it here and answer with the sockets closed.
  nsp.on('contributor:kick', (contributorId, ack) => ack(kickHere(contributorId)));
  // Tabs told to wait, woken a few at a time when units open (here or on another process).
  const wakeList = new WakeList();
  // Requests held until units open (held-requests.ts); tried before the woken tabs ask again.
  const held = new HeldRequests((contributorId) => co.scheduler.requestUnit(contributorId));
  const unitsOpened = () => {
    held.wake();
    wakeList.wake();
  };
  nsp.on('unit:available', unitsOpened);

  nsp.on('connection', (socket: ContributorSocket) => {
    // Every handler: validate, then act; a malformed message answers with a code, never throws.
    const handle = <S extends z.ZodType, T>(
      event: string,
      schema: S,
      ack: unknown,
      msg: unknown,
      run: (data: z.output<S>) => T | Promise<T>,
    ) => {
      const reply = typeof ack === 'function' ? (ack as Ack<T>) : () => {};
      const refuse = (code: ErrorCode, message?: string) => {
        co.metrics.badMessages.inc({ event, code });
        reply(fail(code, message));
      };
      const parsed = schema.safeParse(msg);
      if (!parsed.success)
        return refuse(
          'BAD_REQUEST',
          parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      if (event !== 'contributor:join' && !socket.data.contributorId) return refuse('NOT_JOINED');
      Promise.resolve()
        .then(() => run(parsed.data))
        .then(
          (data) => reply(ok(data)),
          (e) => {
            if (e instanceof GridTabError) reply(fail(e.code, e.message));
            else {
              co.log(`socket ${event} failed: ${(e as Error).stack}`);
              reply(fail('INTERNAL'));
            }
          },
        );
    };

    socket.on('contributor:join', (msg, ack) =>
      handle('contributor:join', joinSchema, ack, msg, async (join) => {
        if (join.protocolVersion !== PROTOCOL_VERSION) {
          throw new GridTabError(
            'PROTOCOL_MISMATCH',
            `the coordinator speaks protocol ${PROTOCOL_VERSION}, the client ${join.protocolVersion}`,
          );
        }
        if (socket.data.contributorId)
          return { contributorId: socket.data.contributorId, heartbeatMs: 25_000, maxMessageBytes };
        // Before the store is touched: a flood of joins from one address writes no rows.
        const taken = await co.guard.joins.take(co.guard.socketAddress(socket.handshake));
        if (!taken.ok)
          throw new GridTabError(
            'RATE_LIMITED',
            `too many joins from this address; retry in ${Math.ceil(taken.retryAfterMs / 1000)} s`,
          );
        // Batched with other joins, committed without an fsync (join-writes.ts says why).
        const record = await co.joinWrites.upsert(
          join.clientId,
          join.chosenBackend,
          new Date().toISOString(),
        );
        const ban = await co.store.getBan(record.id);
        if (ban) {
          co.log(`contributor ${record.id} refused: banned`);
          throw new GridTabError(
            'CONTRIBUTOR_BANNED',
            `an admin banned this contributor${ban.reason ? `: ${ban.reason}` : ''}`,
          );
        }
        // A kick or ban may have landed while the store was answering.
        if (!socket.connected) throw new GridTabError('NOT_JOINED', 'the socket closed while joining');
        // A second join may have finished while the store answered.
        if (socket.data.contributorId)
          return { contributorId: socket.data.contributorId, heartbeatMs: 25_000 };
        socket.data.contributorId = record.id;
        socket.data.device = {
          kind: join.kind,
          backends: join.backends.map((b) => ({
            name: b.name,
            available: b.available,
            samplesPerSec: b.samplesPerSec,
          })),
          chosenBackend: join.chosenBackend,
          userAgent: join.userAgent ?? null,
        };
        clearTimeout(graceTimers.get(record.id));
        graceTimers.delete(record.id);
        online.set(record.id, (online.get(record.id) ?? 0) + 1);
        updateGauges();
        co.log(`contributor ${record.id} joined on ${join.chosenBackend} (${join.kind})`);
        return { contributorId: record.id, heartbeatMs: 25_000, maxMessageBytes };
      }),
    );

    socket.on('unit:request', (msg, ack) =>
      handle('unit:request', unitRequestSchema, ack, msg, async (request) => {
        const contributorId = socket.data.contributorId!;
        const mark = held.mark();
        let offer = await co.scheduler.requestUnit(contributorId);
        if (!offer.unit && !offer.redirect && request.waitMs && socket.connected) {
          wakeList.drop(socket);
          offer = await held.hold(socket, contributorId, offer, request.waitMs, mark);
        }
        if (offer.unit) co.metrics.unitsAssigned.inc();
        if (offer.unit || offer.redirect || !socket.connected) wakeList.drop(socket);
        else wakeList.waits(socket);
        return offer;
      }),
    );

    socket.on('unit:submit', (meta, payload, ack) => {
      // The payload is checked here, before zod sees the meta, so a huge or non-binary payload
      // is refused without being copied.
      const bytes =
        payload instanceof Uint8Array
          ? payload
          : payload instanceof ArrayBuffer
            ? new Uint8Array(payload)
            : null;
      const reply = typeof ack === 'function' ? ack : () => {};
      if (!bytes) {
        co.metrics.badMessages.inc({ event: 'unit:submit', code: 'BAD_REQUEST' });
        co.metrics.updatesRejected.inc({ code: 'BAD_REQUEST' });
        return reply(fail('BAD_REQUEST', 'the update payload must be binary (ArrayBuffer or Uint8Array)'));
      }
      if (bytes.byteLength > MAX_UPDATE_BYTES) {
        co.metrics.updatesRejected.inc({ code: 'PAYLOAD_TOO_LARGE' });
        return reply(fail('PAYLOAD_TOO_LARGE', `updates are limited to ${MAX_UPDATE_BYTES} bytes`));
      }
      handle('unit:submit', updateMetaSchema, ack, meta, async (m) => {
        const id = socket.data.contributorId!;
        let whole = bytes;
        if (m.uploadId) {
          if (bytes.byteLength > 0)
            throw new GridTabError('BAD_REQUEST', 'a submit naming an upload carries no payload of its own');
          try {
            whole = await chunks.take(id, m.uploadId);
          } catch (e) {
            if (e instanceof GridTabError) co.metrics.updatesRejected.inc({ code: e.code });
            throw e;
          }
        }
        try {
          const accepted = await co.scheduler.submit(id, m, whole);
          co.outcomes.submitted(id, true, co.clock.now());
          return accepted;
        } catch (e) {
          if (e instanceof GridTabError) co.outcomes.submitted(id, false, co.clock.now());
          throw e;
        }
      });
    });

    socket.on('unit:chunk', (header, piece, ack) => {
      const bytes =
        piece instanceof Uint8Array ? piece : piece instanceof ArrayBuffer ? new Uint8Array(piece) : null;
      if (!bytes) {
        co.metrics.badMessages.inc({ event: 'unit:chunk', code: 'BAD_REQUEST' });
        const reply = typeof ack === 'function' ? ack : () => {};
        return reply(fail('BAD_REQUEST', 'the piece must be binary (ArrayBuffer or Uint8Array)'));
      }
      handle('unit:chunk', chunkHeaderSchema, ack, header, (h) =>
        chunks.add(socket.data.contributorId!, h, bytes),
      );
    });

    socket.on('unit:release', (msg, ack) =>
      handle('unit:release', releaseSchema, ack, msg, (m) => ({
        released: co.scheduler.release(socket.data.contributorId!, m.leaseId),
      })),
    );

    socket.on('contributor:progress', (msg) => {
      const parsed = progressSchema.safeParse(msg);
      if (!parsed.success || !socket.data.contributorId) {
        co.metrics.badMessages.inc({ event: 'contributor:progress', code: 'BAD_REQUEST' });
        return;
      }
      socket.data.samplesPerSec = parsed.data.samplesPerSec;
      const { backends, chosenBackend } = parsed.data;
      if (socket.data.device && (backends || chosenBackend)) {
        socket.data.device = {
          ...socket.data.device,
          ...(backends
            ? {
                backends: backends.map(({ name, available, samplesPerSec }) => ({
                  name,
                  available,
                  samplesPerSec,
                })),
              }
            : {}),
          ...(chosenBackend ? { chosenBackend } : {}),
        };
      }
      co.scheduler.reportSpeed(socket.data.contributorId, parsed.data.samplesPerSec);
      updateGauges();
    });

    socket.on('disconnect', () => {
      wakeList.drop(socket);
      held.drop(socket);
      const id = socket.data.contributorId;
      if (!id) return;
      const left = (online.get(id) ?? 1) - 1;
      if (left > 0) online.set(id, left);
      else online.delete(id);
      updateGauges();
      if (left > 0) return;
      // A brief disconnect keeps the leases (the tab keeps training and submits on reconnect);
      // past the grace period their units go to other tabs, but a result the tab still brings
      // (reloaded, it resumes its unit; the contributor id follows its clientId) is used if it
      // comes first.
      graceTimers.set(
        id,
        setTimeout(() => {
          graceTimers.delete(id);
          const freed = co.scheduler.leave(id);
          if (freed > 0) co.log(`contributor ${id} gone; ${freed} unit(s) handed out again`);
        }, co.config.disconnectGraceMs),
      );
    });
  });

  return {
    namespace: nsp,
    online: () => new Set(online.keys()),
    /** Reported samples/s per contributor, summed over its sockets. */
    rates: () => {
      const rates = new Map<string, number>();
      for (const s of nsp.sockets.values()) {
        const id = s.data.contributorId;
        if (id) rates.set(id, (rates.get(id) ?? 0) + (s.data.samplesPerSec ?? 0));
      }
      return rates;
    },
    /** The device each online contributor described when it joined (its first live socket). */
    devices: () => {
      const devices = new Map<string, ConsoleDevice>();
      for (const s of nsp.sockets.values()) {
        const id = s.data.contributorId;
        if (id && s.data.device && !devices.has(id)) devices.set(id, s.data.device);
      }
      return devices;
    },
    /**
     * Drops every socket of a contributor and frees its leases at once (no grace period), on
     * every process: with REDIS_URL the kick is published to the others (the job's owner among
     * them, which holds the leases) and answered once each has done it. A process that does
     * not answer within the adapter's request timeout fails the kick with INTERNAL.
     */
    kick: async (contributorId: string) => {
      const here = kickHere(contributorId);
      if (!co.config.redisUrl) return here;
      try {
        const there = await nsp.serverSideEmitWithAck('contributor:kick', contributorId);
        return there.reduce((sum, n) => sum + n, here);
      } catch (e) {
        throw new GridTabError(
          'INTERNAL',
          `the kick did not reach every coordinator: ${(e as Error).message}`,
        );
      }
    },
    /**
     * Units opened: wakes a few of the tabs waiting here and, with REDIS_URL, on the other
     * processes (each wakes its own; wake-list.ts says why not every socket).
     */
    unitsAvailable: () => {
      unitsOpened();
      if (co.config.redisUrl) nsp.serverSideEmit('unit:available');
    },
    close: () => {
      held.close();
      for (const t of graceTimers.values()) clearTimeout(t);
      graceTimers.clear();
    },
  };
}
