/**
 * The `/inference` namespace: apps embedding the SDK subscribe to a model alias and hear when
 * it moves, each told the version the alias now gives it (a canary split is per client), and
 * report telemetry per version. Messages are validated with the shared schemas; answers are
 * Results, never thrown errors.
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
import type { Namespace, Server, Socket } from 'socket.io';
import type { Registry } from '../registry/registry.ts';
import type { InferenceTelemetry } from '../registry/telemetry.ts';
import type { AliasMove } from '../storage/registry-records.ts';

interface SocketData {
  clientKey: string;
  /** `${name}\0${alias}` of every subscription this socket holds. */
  subscriptions: Set<string>;
}

type InferenceNamespace = Namespace<
  InferenceClientEvents,
  InferenceServerEvents,
  Record<string, never>,
  SocketData
>;
type InferenceSocket = Socket<
  InferenceClientEvents,
  InferenceServerEvents,
  Record<string, never>,
  SocketData
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
  io: Server,
  deps: { registry: Registry; telemetry: InferenceTelemetry; log: (msg: string) => void },
) {
  const nsp = io.of(INFERENCE_NAMESPACE) as unknown as InferenceNamespace;

  nsp.on('connection', (socket: InferenceSocket) => {
    socket.data.clientKey = socket.id;
    socket.data.subscriptions = new Set();

    socket.on('model:subscribe', (msg, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const parsed = subscribeSchema.safeParse(msg);
      if (!parsed.success)
        return reply(fail('BAD_REQUEST', parsed.error.issues.map((i) => i.message).join('; ')));
      const { name, alias, clientKey } = parsed.data;
      if (clientKey) socket.data.clientKey = clientKey;
      void toResult(() => deps.registry.resolve(name, alias, socket.data.clientKey)).then((result) => {
        if (result.ok) socket.join(room(name, alias));
        reply(result);
      });
    });

    socket.on('inference:report', (msg, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
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
