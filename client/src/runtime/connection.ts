/**
 * The contributor's link to its coordinators: one socket.io socket on the contributor
 * namespace, joined again on every (re)connect, moved to the next coordinator URL when
 * reconnecting to the current one keeps failing (or to the one a redirect names). Every request
 * is a typed `emitWithAck`, its answer typed by the event map in shared/.
 */
import {
  ask,
  CONTRIBUTOR_NAMESPACE,
  type ContributorClientEvents,
  type ContributorServerEvents,
  Disconnected,
  type Endpoints,
  type ErrorBody,
  type JoinAck,
  type JoinMessage,
  MAX_SOCKET_MESSAGE_BYTES,
  type ProgressMessage,
  type VersionEvent,
} from '@gridtab/shared';
import { io, type Socket } from 'socket.io-client';

export type ClientSocket = Socket<ContributorServerEvents, ContributorClientEvents>;

const ACK_TIMEOUT_MS = 60_000;
/** With several coordinators: failed reconnects to the current one before moving on. */
const RECONNECTS_BEFORE_FAILOVER = 2;

/** What the runtime hears from the connection. */
export interface ConnectionListener {
  connected(): void;
  disconnected(): void;
  joined(ack: JoinAck): void;
  joinRefused(error: ErrorBody): void;
  /** A round opened or a unit was freed: an idle runtime asks for work. */
  unitAvailable(): void;
  version(event: VersionEvent): void;
}

export interface ConnectionOptions {
  endpoints: Endpoints;
  /** The join message, built at each (re)connect from what the runtime knows then. */
  joinMessage: () => JoinMessage;
  listener: ConnectionListener;
  /** False once the runtime stops: a move to another coordinator then does not reconnect. */
  active: () => boolean;
  log: (msg: string) => void;
}

export class Connection {
  private socket: ClientSocket | null = null;
  private joinedNow: Promise<void> = Promise.resolve();
  /** Ends a wait for (re)join: on join, and on pause so a disconnected runtime can stop. */
  private resolveJoined: () => void = () => {};
  /** The coordinator's socket message limit, from the join answer. */
  maxMessageBytes = MAX_SOCKET_MESSAGE_BYTES;

  constructor(private readonly opts: ConnectionOptions) {}

  /** The coordinator this runtime talks to now. */
  get url(): string {
    return this.opts.endpoints.current;
  }

  /** Resolves once joined (or once released by `releaseWaiters`). */
  get joined(): Promise<void> {
    return this.joinedNow;
  }

  /** Ends every wait for a join, so a stopping runtime does not wait for a coordinator. */
  releaseWaiters(): void {
    this.resolveJoined();
  }

  /**
   * A new wait for the next join. Whoever still waits on the previous one (a submit that lost its
   * socket, then the runtime moved to another coordinator) is released by the next join too.
   */
  private resetJoined(): void {
    const previous = this.resolveJoined;
    this.joinedNow = new Promise((r) => {
      this.resolveJoined = () => {
        previous();
        r();
      };
    });
  }

  /** Leaves the current coordinator for `url` (or the next in the list) and joins there. */
  switchTo(url?: string): void {
    const { endpoints } = this.opts;
    const from = endpoints.current;
    if (url === undefined) endpoints.next();
    else if (!endpoints.moveTo(url)) return;
    if (endpoints.current === from) return;
    this.opts.log(`moving from ${from} to ${endpoints.current}`);
    const old = this.socket;
    this.socket = null;
    if (old) {
      old.disconnect(); // fires 'disconnect': pending acknowledgements give up, joined resets
      old.removeAllListeners();
    }
    if (this.opts.active()) this.open();
  }

  open(): void {
    if (this.socket) {
      this.socket.connect();
      return;
    }
    const { endpoints, listener } = this.opts;
    const socket: ClientSocket = io(`${endpoints.current}${CONTRIBUTOR_NAMESPACE}`, {
      transports: ['websocket'],
      reconnectionDelayMax: 3000,
      // A fresh manager per URL: a moved runtime must not share the old coordinator's.
      forceNew: true,
      ...(endpoints.several ? { reconnectionAttempts: RECONNECTS_BEFORE_FAILOVER } : {}),
    });
    // Reconnecting to this coordinator keeps failing: move on to the next one.
    socket.io.on('reconnect_failed', () => {
      if (this.socket === socket) this.switchTo();
    });
    this.socket = socket;
    this.resetJoined();
    socket.on('connect', async () => {
      listener.connected();
      const res = await this.request((s) => s.emitWithAck('contributor:join', this.opts.joinMessage())).catch(
        (e: Error) => ({ ok: false as const, error: { code: 'INTERNAL' as const, message: e.message } }),
      );
      if (!res.ok) return listener.joinRefused(res.error);
      this.maxMessageBytes = res.data.maxMessageBytes ?? MAX_SOCKET_MESSAGE_BYTES;
      listener.joined(res.data);
      this.resolveJoined();
      listener.unitAvailable();
    });
    socket.on('disconnect', () => {
      listener.disconnected();
      this.resetJoined();
    });
    socket.on('unit:available', () => listener.unitAvailable());
    socket.on('job:version', (event) => listener.version(event));
  }

  /**
   * One request and its acknowledgement, typed by the event map: `send` calls `emitWithAck`.
   * Rejects with Disconnected when there is no socket or it drops before the answer.
   */
  request<T>(send: (socket: ClientSocket) => Promise<T>): Promise<T> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new Disconnected());
    return ask(socket, ACK_TIMEOUT_MS, send);
  }

  /** Gives a lease back at once rather than at its deadline (a no-op if it is gone). */
  async release(leaseId: string): Promise<void> {
    await this.request((s) => s.emitWithAck('unit:release', { leaseId })).catch(() => {});
  }

  progress(msg: ProgressMessage): void {
    this.socket?.emit('contributor:progress', msg);
  }

  disconnect(): void {
    this.socket?.disconnect();
  }

  /** Disconnects and forgets the socket: the next `open` starts a fresh one. */
  close(): void {
    this.disconnect();
    this.socket = null;
  }
}
