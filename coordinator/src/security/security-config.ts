/**
 * The security settings of the coordinator, from the environment (docs/SECURITY.md). Kept
 * apart from config.ts so the list of what defends the service reads in one place.
 */
import type { BuildPoolOptions } from '../model-build/build-pool.ts';
import type { RateLimit } from './rate-limit.ts';

export interface SecurityConfig {
  /** contributor:join per client address. */
  joinLimit: RateLimit;
  /** Failed bearer tokens per client address; past it, 429 RATE_LIMITED with Retry-After. */
  authFailureLimit: RateLimit;
  /** Most socket.io connections this process holds. */
  maxConnections: number;
  /** Most socket.io connections this process holds from one client address (0: no cap). */
  maxConnectionsPerAddress: number;
  /** Contributor rows that never finished a unit are deleted this long after last seen. */
  contributorIdleMs: number;
  /** How often rate-limit buckets are swept and idle contributor rows deleted (default a minute). */
  maintenanceTickMs: number;
  /** Extra page origins allowed to open sockets (`*`: any); same host and localhost always are. */
  allowedOrigins: string[];
  /** Peers whose X-Forwarded-For is believed (a reverse proxy's address). */
  trustedProxies: string[];
  /** The worker threads that build incoming model specs off the event loop. */
  build: BuildPoolOptions;
  /** PEM files: with both, the one port serves HTTPS and WSS. */
  tlsCert: string | null;
  tlsKey: string | null;
}

export const SECURITY_ENV_HELP: [string, string][] = [
  ['GRIDTAB_JOIN_BURST', 'contributor joins one address may make at once (default 60)'],
  ['GRIDTAB_JOINS_PER_MINUTE', 'contributor joins per address per minute after the burst (default 60)'],
  ['GRIDTAB_AUTH_FAILURES_PER_MINUTE', 'failed token attempts per address per minute, burst 10 (default 10)'],
  ['GRIDTAB_MAX_CONNECTIONS', 'most socket.io connections per process (default 5000)'],
  [
    'GRIDTAB_MAX_CONNECTIONS_PER_ADDRESS',
    'most socket.io connections per process from one client address, 0 for no cap (default 200)',
  ],
  [
    'GRIDTAB_CONTRIBUTOR_IDLE_HOURS',
    'contributors that never did work are deleted this long after last seen (default 24)',
  ],
  [
    'GRIDTAB_ALLOWED_ORIGINS',
    'comma-separated page origins allowed to open sockets, * for any (default: same host and localhost)',
  ],
  [
    'GRIDTAB_TRUSTED_PROXIES',
    'comma-separated proxy addresses whose X-Forwarded-For is believed (default: none)',
  ],
  ['GRIDTAB_BUILD_WORKERS', 'worker threads that build incoming model specs (default 1)'],
  ['GRIDTAB_BUILD_QUEUE', 'model builds that may wait for a worker; past it, 503 BUSY (default 8)'],
  ['GRIDTAB_BUILD_TIMEOUT_S', 'a model build running longer is refused and its worker ended (default 60)'],
  ['GRIDTAB_BUILD_HEAP_MB', 'V8 heap of a build worker (default 1024)'],
  ['TLS_CERT', 'PEM certificate file: serve HTTPS and WSS (with TLS_KEY); SIGHUP reloads both'],
  ['TLS_KEY', 'PEM private key file for TLS_CERT'],
];

function count(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got '${value}'`);
  return n;
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function securityConfigFromEnv(env: NodeJS.ProcessEnv): SecurityConfig {
  const tlsCert = env.TLS_CERT || null;
  const tlsKey = env.TLS_KEY || null;
  if (!tlsCert !== !tlsKey) throw new Error('TLS_CERT and TLS_KEY go together: set both or neither');
  return {
    joinLimit: {
      burst: count(env.GRIDTAB_JOIN_BURST, 60, 'GRIDTAB_JOIN_BURST'),
      perMinute: count(env.GRIDTAB_JOINS_PER_MINUTE, 60, 'GRIDTAB_JOINS_PER_MINUTE'),
    },
    authFailureLimit: {
      burst: 10,
      perMinute: count(env.GRIDTAB_AUTH_FAILURES_PER_MINUTE, 10, 'GRIDTAB_AUTH_FAILURES_PER_MINUTE'),
    },
    maxConnections: count(env.GRIDTAB_MAX_CONNECTIONS, 5000, 'GRIDTAB_MAX_CONNECTIONS'),
    maxConnectionsPerAddress: count(
      env.GRIDTAB_MAX_CONNECTIONS_PER_ADDRESS,
      200,
      'GRIDTAB_MAX_CONNECTIONS_PER_ADDRESS',
    ),
    contributorIdleMs:
      count(env.GRIDTAB_CONTRIBUTOR_IDLE_HOURS, 24, 'GRIDTAB_CONTRIBUTOR_IDLE_HOURS') * 3_600_000,
    maintenanceTickMs: 60_000,
    allowedOrigins: list(env.GRIDTAB_ALLOWED_ORIGINS),
    trustedProxies: list(env.GRIDTAB_TRUSTED_PROXIES),
    build: {
      workers: Math.max(1, count(env.GRIDTAB_BUILD_WORKERS, 1, 'GRIDTAB_BUILD_WORKERS')),
      queue: count(env.GRIDTAB_BUILD_QUEUE, 8, 'GRIDTAB_BUILD_QUEUE'),
      timeoutMs: count(env.GRIDTAB_BUILD_TIMEOUT_S, 60, 'GRIDTAB_BUILD_TIMEOUT_S') * 1000,
      heapMb: Math.max(64, count(env.GRIDTAB_BUILD_HEAP_MB, 1024, 'GRIDTAB_BUILD_HEAP_MB')),
    },
    tlsCert,
    tlsKey,
  };
}
