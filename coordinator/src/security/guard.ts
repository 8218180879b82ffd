/**
 * The coordinator's per-address defences in one object: who a request or socket comes from
 * (trusted proxies honoured), the join and failed-token buckets, and the identity each
 * authenticated request acted as (for the audit log). Passed to routes and namespaces.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Clock } from '../clock.ts';
import { clientAddress } from './client-address.ts';
import { KeyedRateLimiter } from './rate-limit.ts';
import type { SecurityConfig } from './security-config.ts';

export interface Actor {
  /** `ADMIN_TOKEN`, `VIEWER_TOKEN`, or `<label> (<token id>)`. */
  label: string;
  role: 'admin' | 'viewer';
}

export class SecurityGuard {
  readonly joins: KeyedRateLimiter;
  readonly authFailures: KeyedRateLimiter;
  /** Which token each request authenticated as; keyed by the request, so it dies with it. */
  private readonly actors = new WeakMap<Request, Actor>();

  constructor(
    readonly config: SecurityConfig,
    clock: Clock,
  ) {
    this.joins = new KeyedRateLimiter(config.joinLimit, clock);
    this.authFailures = new KeyedRateLimiter(config.authFailureLimit, clock);
  }

  httpAddress(c: Context): string {
    let peer: string | undefined;
    try {
      peer = getConnInfo(c).remote.address;
    } catch {
      peer = undefined; // app.request() in tests has no socket
    }
    return clientAddress(peer, c.req.header('x-forwarded-for'), this.config.trustedProxies);
  }

  socketAddress(handshake: {
    address: string;
    headers: Record<string, string | string[] | undefined>;
  }): string {
    return clientAddress(handshake.address, handshake.headers['x-forwarded-for'], this.config.trustedProxies);
  }

  setActor(c: Context, actor: Actor): void {
    this.actors.set(c.req.raw, actor);
  }

  actor(c: Context): Actor | null {
    return this.actors.get(c.req.raw) ?? null;
  }

  sweep(): void {
    this.joins.sweep();
    this.authFailures.sweep();
  }
}
