/**
 * The console namespace: admins and viewers connect with a token in the handshake and get a
 * live snapshot (contributors, throughput, jobs) every second and right after a change made
 * here. Every inbound event is parsed with zod and answered with a Result; mutating events
 * re-check the token each time, so a revoked token stops working on an open socket too.
 */
import {
  type Ack,
  CONSOLE_ADMIN_EVENTS,
  CONSOLE_NAMESPACE,
  CONSOLE_SNAPSHOT_MS,
  type ConsoleClientEvents,
  type ConsoleServerEvents,
  consoleAuthSchema,
  contributorActionSchema,
  contributorBanSchema,
  type ErrorBody,
  type ErrorCode,
  fail,
  GridTabError,
  jobControlSchema,
  jobSpecSchema,
  jobStatsSchema,
  jobVersionsSchema,
  ok,
  snapshotRequestSchema,
} from '@gridtab/shared';
import type { Namespace, Socket } from 'socket.io';
import type { z } from 'zod';
import type { Coordinator } from '../app.ts';
import type { TokenIdentity } from '../http/tokens.ts';
import { jobView, versionView } from '../http/views.ts';
import { createJob } from '../scheduler/jobs.ts';
import { recordAudit } from '../security/audit.ts';
import { buildSnapshot, type ContributorPresence, jobStats, type SnapshotDeps } from './console-snapshot.ts';
import type { GridTabServer, InterServerEvents } from './server.ts';

export type { ContributorPresence } from './console-snapshot.ts';

export interface ConsoleSocketData {
  token: string;
  identity: TokenIdentity;
}
type ConsoleNamespace = Namespace<
  ConsoleClientEvents,
  ConsoleServerEvents,
  InterServerEvents,
  ConsoleSocketData
>;
type ConsoleSocket = Socket<ConsoleClientEvents, ConsoleServerEvents, InterServerEvents, ConsoleSocketData>;

const STATUS_OF = { pause: 'paused', resume: 'running', cancel: 'cancelled' } as const;
const ADMIN_EVENTS = new Set<string>(CONSOLE_ADMIN_EVENTS);

/**
 * What the console namespace uses: the snapshot's reads, token and address checks, the audit log,
 * and job creation (budget check and build pool included) and control.
 */
export type ConsoleDeps = SnapshotDeps &
  Pick<
    Coordinator,
    | 'guard'
    | 'tokens'
    | 'log'
    | 'metrics'
    | 'outcomes'
    | 'blobs'
    | 'admit'
    | 'builder'
    | 'datasets'
    | 'scheduler'
  >;

export function attachConsole(io: GridTabServer, co: ConsoleDeps, presence: ContributorPresence) {
  const nsp: ConsoleNamespace = io.of(CONSOLE_NAMESPACE);

  // socket.io hands `data` to the client's connect_error, so the page can show the code.
  const refusal = (data: ErrorBody & { retryAfterMs?: number }) =>
    Object.assign(new Error(data.code), { data });

  nsp.use(async (socket, next) => {
    const auth = consoleAuthSchema.safeParse(socket.handshake.auth);
    // Wrong tokens count against the address as over HTTP (http/auth.ts): past the limit every
    // handshake from there is refused, right token or not, until the bucket refills.
    const address = co.guard.socketAddress(socket.handshake);
    const limited = (retryAfterMs: number) =>
      refusal({
        ...fail(
          'RATE_LIMITED',
          `too many failed token attempts from this address; retry in ${Math.ceil(retryAfterMs / 1000)} s`,
        ).error,
        retryAfterMs,
      });
    if (auth.success) {
      const open = await co.guard.authFailures.peek(address);
      if (!open.ok) return next(limited(open.retryAfterMs));
    }
    const identity = auth.success ? await co.tokens.resolve(auth.data.token).catch(() => null) : null;
    if (auth.success && !identity) {
      const taken = await co.guard.authFailures.take(address);
      if (!taken.ok) return next(limited(taken.retryAfterMs));
    }
    if (!auth.success || !identity)
      return next(refusal(fail('UNAUTHORIZED', 'send auth: { token } with an admin or viewer token').error));
    socket.data.token = auth.data.token;
    socket.data.identity = identity;
    next();
  });

  const push = async () => {
    if (nsp.sockets.size === 0) return;
    let base: Awaited<ReturnType<typeof buildSnapshot>>;
    try {
      base = await buildSnapshot(co, presence);
    } catch (e) {
      co.log(`console snapshot failed: ${(e as Error).stack}`);
      return;
    }
    for (const s of nsp.sockets.values()) s.emit('console:snapshot', { ...base, role: s.data.identity.role });
  };

  nsp.on('connection', (socket: ConsoleSocket) => {
    const handle = <S extends z.ZodType, T>(
      event: keyof ConsoleClientEvents,
      schema: S,
      msg: unknown,
      ack: unknown,
      run: (data: z.output<S>) => T | Promise<T>,
    ) => {
      const reply = typeof ack === 'function' ? (ack as Ack<T>) : () => {};
      const refuse = (code: ErrorCode, message?: string) => {
        co.metrics.badMessages.inc({ event, code });
        reply(fail(code, message));
      };
      const act = async () => {
        // The token is checked again on every admin event: it may have been revoked since connecting.
        if (ADMIN_EVENTS.has(event)) {
          const who = await co.tokens.resolve(socket.data.token);
          if (!who) return refuse('UNAUTHORIZED', 'the token is unknown or was revoked');
          if (who.role !== 'admin') return refuse('FORBIDDEN', `a ${who.role} token may not ${event}`);
        }
        const parsed = schema.safeParse(msg);
        if (!parsed.success)
          return refuse(
            'BAD_REQUEST',
            parsed.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; '),
          );
        reply(ok(await run(parsed.data)));
        if (ADMIN_EVENTS.has(event)) {
          void push();
          const who = socket.data.identity;
          const data = parsed.data as { contributorId?: string };
          void recordAudit(co, {
            actor: { label: who.label ?? who.id, role: who.role },
            action: event,
            target: data.contributorId ?? '',
            address: co.guard.socketAddress(socket.handshake),
            detail: parsed.data,
          });
        }
      };
      act().catch((e) => {
        if (e instanceof GridTabError) reply(fail(e.code, e.message));
        else {
          co.log(`console ${event} failed: ${(e as Error).stack}`);
          reply(fail('INTERNAL'));
        }
      });
    };
    const getJob = async (id: string) => {
      const job = await co.store.getJob(id);
      if (!job) throw new GridTabError('NOT_FOUND', `job ${id} does not exist`);
      return job;
    };

    socket.on('console:snapshot', (msg, ack) =>
      handle('console:snapshot', snapshotRequestSchema, msg, ack, async () => ({
        ...(await buildSnapshot(co, presence)),
        role: socket.data.identity.role,
      })),
    );
    socket.on('job:versions', (msg, ack) =>
      handle('job:versions', jobVersionsSchema, msg, ack, async ({ jobId }) =>
        (await co.store.listVersions((await getJob(jobId)).id)).map(versionView),
      ),
    );
    socket.on('job:stats', (msg, ack) =>
      handle('job:stats', jobStatsSchema, msg, ack, async ({ jobId }) =>
        jobStats(co, (await getJob(jobId)).id),
      ),
    );
    socket.on('job:create', (msg, ack) =>
      handle('job:create', jobSpecSchema, msg, ack, async (spec) => {
        const job = await createJob(co, spec);
        await co.scheduler.openRound(job);
        co.log(`job ${job.id} '${job.name}' created from the console`);
        return jobView(co.store, job);
      }),
    );
    socket.on('job:control', (msg, ack) =>
      handle('job:control', jobControlSchema, msg, ack, async ({ jobId, action }) => {
        await getJob(jobId);
        const job = await co.scheduler.setStatus(jobId, STATUS_OF[action]);
        co.log(`job ${jobId} ${action} from the console`);
        return jobView(co.store, job);
      }),
    );
    const known = async (contributorId: string) => {
      if (!(await co.store.listContributors()).some((c) => c.id === contributorId))
        throw new GridTabError('NOT_FOUND', `contributor ${contributorId} does not exist`);
    };
    socket.on('contributor:kick', (msg, ack) =>
      handle('contributor:kick', contributorActionSchema, msg, ack, async ({ contributorId }) => {
        await known(contributorId);
        return { sockets: await presence.kick(contributorId) };
      }),
    );
    socket.on('contributor:ban', (msg, ack) =>
      handle('contributor:ban', contributorBanSchema, msg, ack, async ({ contributorId, reason }) => {
        await known(contributorId);
        await co.store.banContributor({
          contributorId,
          reason,
          bannedAt: new Date(co.clock.now()).toISOString(),
        });
        co.log(`contributor ${contributorId} banned from the console`);
        return { sockets: await presence.kick(contributorId) };
      }),
    );
    socket.on('contributor:unban', (msg, ack) =>
      handle('contributor:unban', contributorActionSchema, msg, ack, async ({ contributorId }) => {
        const unbanned = await co.store.unbanContributor(contributorId);
        if (unbanned) co.log(`contributor ${contributorId} unbanned from the console`);
        return { unbanned };
      }),
    );
    void buildSnapshot(co, presence).then(
      (base) => socket.emit('console:snapshot', { ...base, role: socket.data.identity.role }),
      (e) => co.log(`console snapshot failed: ${(e as Error).stack}`),
    );
  });

  const timer = setInterval(() => void push(), CONSOLE_SNAPSHOT_MS);
  return {
    namespace: nsp,
    push,
    close: () => clearInterval(timer),
  };
}
