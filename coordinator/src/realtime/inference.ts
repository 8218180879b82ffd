/**
 * The `/inference` namespace: apps embedding the SDK subscribe to a model alias and hear when
 * it moves, each told the version the alias now gives it (a canary split is per client), and
 * report telemetry per version. Messages are validated with the shared schemas; answers are
 * Results, never thrown errors.
 *
 * The namespace is public (apps embed it in public pages, with no login), so each socket is
 * bounded: its subscribes and reports draw from one token bucket (both cost store reads; the SDK
 * sends one subscribe per connect and one report per 10 s), it holds at most
 * MAX_SUBSCRIPTIONS aliases, and telemetry keeps only versions the registry knows, so a hostile
 * page cannot flood the store, the rooms or the metrics' label values.
 */
import {
  fail,
  GridTabError,
  INFERENCE_NAMESPACE,
  type InferenceClientEvents,
  type InferenceServerEvents,
  inferenceReportSchema,
  ok,
  type Result,
  subscribeSchema,
} from '@gridtab/shared';
import type { Namespace, Socket } from 'socket.io';
import type { Clock } from '../clock.ts';
import type { Registry } from '../registry/registry.ts';
import type { InferenceTelemetry } from '../registry/telemetry.ts';
import type { AliasMove } from '../storage/registry-records.ts';
import type { GridTabServer, InterServerEvents } from './server.ts';
import { TokenBucket } from './token-bucket.ts';

/** Messages (subscribes and reports) a socket may send at once, then per second. */
export const INFERENCE_BURST = 20;
export const INFERENCE_PER_SECOND = 1;
/** Aliases one socket may follow (the SDK follows one per socket). */
export const MAX_SUBSCRIPTIONS = 16;

export interface InferenceSocketData {
  clientKey: string;
  /** `${name}\0${alias}` of every subscription this socket holds or is resolving. */
  subscriptions: Set<string>;
  bucket: TokenBucket;
}

type InferenceNamespace = Namespace<
  InferenceClientEvents,
  InferenceServerEvents,
  InterServerEvents,
  InferenceSocketData
>;
type InferenceSocket = Socket<
  InferenceClientEvents,
  InferenceServerEvents,
  InterServerEvents,
  InferenceSocketData
>;

const room = (name: string, alias: string) => `alias:${name}\u0000${alias}`;

async function toResult<T>(run: () => Promise<T>): Promise<Result<T>> {
  try {
    return ok(await run());
  } catch (e) {
    if (e instanceof GridTabError) return fail(e.code, e.message);
    return fail('INTERNAL');
  }
}

export function attachInference(
  io: GridTabServer,
  deps: { registry: Registry; telemetry: InferenceTelemetry; clock: Clock; log: (msg: string) => void },
) {
  const nsp: InferenceNamespace = io.of(INFERENCE_NAMESPACE);

  nsp.on('connection', (socket: InferenceSocket) => {
    socket.data.clientKey = socket.id;
    socket.data.subscriptions = new Set();
    socket.data.bucket = new TokenBucket(deps.clock, INFERENCE_BURST, INFERENCE_PER_SECOND);
    const limited = () =>
      fail(
        'RATE_LIMITED',
        `a socket may send ${INFERENCE_BURST} subscribes and reports at once, then ${INFERENCE_PER_SECOND} a second`,
      );

    socket.on('model:subscribe', (msg, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (!socket.data.bucket.take()) return reply(limited());
      const parsed = subscribeSchema.safeParse(msg);
      if (!parsed.success)
        return reply(fail('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; ')));
      const { name, alias, clientKey } = parsed.data;
      const key = `${name}\u0000${alias}`;
      const subs = socket.data.subscriptions;
      const fresh = !subs.has(key);
      if (fresh && subs.size >= MAX_SUBSCRIPTIONS)
        return reply(
          fail('TOO_MANY_SUBSCRIPTIONS', `a socket may follow at most ${MAX_SUBSCRIPTIONS} aliases`),
        );
      // Held while resolving, so subscribes sent together cannot pass the cap together.
      subs.add(key);
      if (clientKey) socket.data.clientKey = clientKey;
      void toResult(() => deps.registry.resolve(name, alias, socket.data.clientKey)).then((result) => {
        if (result.ok) socket.join(room(name, alias));
        else if (fresh) subs.delete(key);
        reply(result);
      });
    });

    socket.on('inference:report', (msg, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      if (!socket.data.bucket.take()) return reply(limited());
      const parsed = inferenceReportSchema.safeParse(msg);
      if (!parsed.success)
        return reply(fail('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; ')));
      const r = parsed.data;
      // Only versions the registry knows are kept: telemetry cannot invent label values.
      void toResult(() => deps.registry.version(r.name, r.versionId)).then((known) => {
        if (!known.ok) return reply(known);
        deps.telemetry.record(r);
        reply(ok({ kept: true as const }));
      });
    });
  });

  return {
    namespace: nsp,
    /** Tells every subscriber of the alias which version it now gets. */
    async aliasMoved(move: AliasMove): Promise<void> {
      const sockets = await nsp.in(room(move.modelName, move.alias)).fetchSockets();
      for (const s of sockets) {
        const result = await toResult(() =>
          deps.registry.resolve(move.modelName, move.alias, s.data.clientKey),
        );
        if (result.ok) s.emit('model:promoted', result.data);
      }
    },
  };
}
