/**
 * The one socket.io server behind the coordinator's port, typed by the event maps in shared/.
 * socket.io types a server with one set of maps and gives every namespace (`io.of(name)`) the
 * same, so the server takes all three namespaces' maps together; each namespace module then
 * narrows `io.of(name)` to its own maps by a plain typed declaration (checked by the compiler,
 * no cast), so a handler can only hear and send its own namespace's events.
 */

import type { Server as HttpServer } from 'node:http';
import type {
  ConsoleClientEvents,
  ConsoleServerEvents,
  ContributorClientEvents,
  ContributorServerEvents,
  InferenceClientEvents,
  InferenceServerEvents,
} from '@gridtab/shared';
import { Server, type ServerOptions } from 'socket.io';
import type { ConsoleSocketData } from './console.ts';
import type { ContributorSocketData } from './contributors.ts';
import type { InferenceSocketData } from './inference.ts';

/** Events between coordinator processes (the Redis adapter's serverSideEmit, with acknowledgements). */
export interface InterServerEvents {
  /** Kick a contributor here too; the answer is the sockets closed here. */
  'contributor:kick': (contributorId: string, ack: (sockets: number) => void) => void;
  /**
   * A job's row changed on the sender (pause, resume, cancel): read it again and act on it here;
   * the answer says whether this process runs the job (cluster/job-control.ts).
   */
  'job:changed': (jobId: string, ack: (answer: { runs: boolean }) => void) => void;
  /** Units opened on the sender: wake some of the tabs waiting here (wake-list.ts). */
  'unit:available': () => void;
  /** A contributor's reputation record changed on the sender (quarantined, or released). */
  'contributor:reputation': (contributorId: string, ack: (done: true) => void) => void;
}

type ListenEvents = ContributorClientEvents & ConsoleClientEvents & InferenceClientEvents;
type EmitEvents = ContributorServerEvents & ConsoleServerEvents & InferenceServerEvents;
type SocketData = ContributorSocketData & ConsoleSocketData & InferenceSocketData;

export type GridTabServer = Server<ListenEvents, EmitEvents, InterServerEvents, SocketData>;

export function createSocketServer(httpServer: HttpServer, options: Partial<ServerOptions>): GridTabServer {
  return new Server<ListenEvents, EmitEvents, InterServerEvents, SocketData>(httpServer, options);
}
