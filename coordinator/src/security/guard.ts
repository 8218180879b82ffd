/**
 * The coordinator's per-address defences in one object: who a request or socket comes from
 * (trusted proxies honoured), the join and failed-token buckets, and the identity each
 * authenticated request acted as (for the audit log). Passed to routes and namespaces.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Clock } from '../clock.ts';
import { clientAddress } from './client-address.ts';
import { KeyedRateLimiter, type RateLimit, type RateLimiter } from './rate-limit.ts';
import type { SecurityConfig } from './security-config.ts';

export interface Actor {
  /** `ADMIN_TOKEN`, `VIEWER_TOKEN`, or `<label> (<token id>)`. */
  label: string;
  role: 'admin' | 'viewer';
}

/** Makes a named limiter: in-process, or shared through Redis (cluster/cluster.ts). */
export type LimiterFactory = (name: string, limit: RateLimit) => RateLimiter;

export class SecurityGuard {
  readonly joins: RateLimiter;
  /** Failed tokens per address, over HTTP and the console socket's handshake alike. */
  readonly authFailures: RateLimiter;
  /** Which token each request authenticated as; keyed by the request, so it dies with it. */
  private readonly actors = new WeakMap<Request, Actor>();

  constructor(
    readonly config: SecurityConfig,
    clock: Clock,
    limiter: LimiterFactory = (_, limit) => new KeyedRateLimiter(limit, clock),
  ) {
    this.joins = limiter('joins', config.joinLimit);
    this.authFailures = limiter('auth-failures', config.authFailureLimit);
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
