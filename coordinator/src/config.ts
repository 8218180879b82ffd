/**
 * Configuration from the environment, with the defaults a fresh machine needs. `--help` in
 * main.ts prints this same list.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { MAX_SOCKET_MESSAGE_BYTES } from '@gridtab/shared';
import { DEFAULT_FASHION_MNIST_DIR } from './datasets/fashion-mnist.ts';
import { DEFAULT_DATASET_MAX_BYTES } from './datasets/registry.ts';
import { type LogLevel, logLevelFrom } from './logger.ts';
import { SECURITY_ENV_HELP, type SecurityConfig, securityConfigFromEnv } from './security/security-config.ts';
import { DATA_KEY_ENV_HELP, type DataKeys, dataKeysFromEnv } from './storage/data-key.ts';
import { ALERT_ENV, type AlertThresholds, alertThresholdsFromEnv } from './telemetry/alert-rules.ts';
import { USAGE_ENV, type UsageConfig, usageConfigFromEnv } from './usage/usage-config.ts';

export interface CoordinatorConfig {
  port: number;
  /** A second listener answering only GET /api/health (http/health-listener.ts); null: none. */
  healthPort: number | null;
  host: string;
  dataDir: string;
  adminToken: string;
  /** True when the token was generated here (main prints it once). */
  adminTokenGenerated: boolean;
  /** Read-only console and API token; none when unset. */
  viewerToken: string | null;
  fashionMnistDir: string;
  /** Folder of the built browser pages. */
  staticDir: string;
  /** Create the demo job when the store has no job at all. */
  demoJob: boolean;
  /** How long a disconnected contributor keeps its leases. */
  disconnectGraceMs: number;
  /** Housekeeping period (lease expiry, round deadlines). */
  tickMs: number;
  /** How often telemetry rolls and alert rules (and budgets) are judged. */
  alertTickMs: number;
  /** Largest socket message; bigger updates arrive in `unit:chunk` pieces. */
  socketMessageBytes: number;
  /** PostgreSQL URL: the shared store (and blobs) several coordinators use; null = embedded. */
  databaseUrl: string | null;
  /** Redis URL: socket.io fan-out and job ownership across coordinators; null = one process. */
  redisUrl: string | null;
  /** The URL contributors reach this process at, sent in redirects; null = not advertised. */
  publicUrl: string | null;
  /** How long a job's ownership lasts in Redis unless renewed (a dead owner's jobs move after it). */
  ownerTtlMs: number;
  /**
   * The socket.io Redis adapter's channel prefix: the coordinators sharing it are one cluster
   * (broadcasts and kicks reach each of them, and a kick waits for each to answer).
   */
  redisChannel: string;
  /** Thresholds of the alert rules (GRIDTAB_ALERT_*). */
  alerts: AlertThresholds;
  /** The least severe level the log writes (LOG_LEVEL). */
  logLevel: LogLevel;
  /** Largest dataset upload (GRIDTAB_DATASET_MAX_BYTES). */
  datasetMaxBytes: number;
  /** Threads a large CSV or TSV import parses on, its own included (at most 4); 0: the default, 2 (GRIDTAB_IMPORT_THREADS). */
  importThreads: number;
  /** Rate limits, origins, proxies, TLS (security/security-config.ts). */
  security: SecurityConfig;
  /** Usage accounting, budgets, storage quota and retention (usage/usage-config.ts). */
  usage: UsageConfig;
  /** Keys that encrypt blobs at rest (DATA_KEY, DATA_KEY_PREVIOUS); null = stored in clear. */
  dataKeys: DataKeys | null;
  /** Fold each accepted update into its round's accumulator as it arrives (GRIDTAB_STREAMING_AGGREGATION). */
  streamingAggregation: boolean;
}

export const ENV_HELP: [string, string][] = [
  ['PORT', 'HTTP and socket.io port (default 8787; 0 picks a free one)'],
  [
    'GRIDTAB_HEALTH_PORT',
    'a second port answering only GET /api/health and GET /metrics, for load balancers, probes and Prometheus (default none; 0 picks a free one)',
  ],
  ['HOST', 'address to listen on (default 0.0.0.0)'],
  ['DATA_DIR', 'folder for the embedded SQL store and blobs (default ./data)'],
  ['ADMIN_TOKEN', 'admin bearer token (default: generated at start and printed)'],
  ['VIEWER_TOKEN', 'read-only bearer token for the console (default: none)'],
  [
    'FASHION_MNIST_DIR',
    `folder with the four Fashion-MNIST IDX .gz files (default ${DEFAULT_FASHION_MNIST_DIR})`,
  ],
  ['LOG_LEVEL', 'fatal, error, warn, info, debug, trace or silent (default info); the log is JSON lines'],
  ['GRIDTAB_DEMO_JOB', 'set to 0 to skip creating the demo job on first start'],
  ['GRIDTAB_DISCONNECT_GRACE_MS', 'how long a disconnected tab keeps its leases (default 5000)'],
  [
    'GRIDTAB_SOCKET_MESSAGE_BYTES',
    `largest socket message; bigger updates travel in chunks (default ${MAX_SOCKET_MESSAGE_BYTES})`,
  ],
  ['DATABASE_URL', 'PostgreSQL URL: shared store and blobs for several coordinators (default: embedded)'],
  ['REDIS_URL', 'Redis URL: socket.io fan-out and per-job ownership across coordinators (default: none)'],
  ['GRIDTAB_PUBLIC_URL', "this process's URL for contributors, sent when redirecting them to a job's owner"],
  ['GRIDTAB_OWNER_TTL_MS', 'job ownership lease in Redis; a dead owner is replaced after it (default 5000)'],
  [
    'GRIDTAB_DATASET_MAX_BYTES',
    `largest dataset upload in bytes (default ${DEFAULT_DATASET_MAX_BYTES}, 1 GiB)`,
  ],
  [
    'GRIDTAB_IMPORT_THREADS',
    'threads a CSV or TSV import of 32 MiB or more parses on, at most 4; 1 parses in order on the main thread (default 2; each more adds 40-80 MB to the peak)',
  ],
  [
    'GRIDTAB_STREAMING_AGGREGATION',
    'on folds each accepted update into its round in worker threads as it arrives; off aggregates at close (default on)',
  ],
  ...DATA_KEY_ENV_HELP,
  ...SECURITY_ENV_HELP,
  ...ALERT_ENV.map(([name, , help]): [string, string] => [name, help]),
  ...USAGE_ENV,
];

const repoRoot = resolve(import.meta.dirname, '../..');

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got '${value}'`);
  return n;
}

function onOff(value: string | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new Error(`${name} must be on or off, got '${value}'`);
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  const port = intFrom(env.PORT, 8787, 'PORT');
  if (port > 65535) throw new Error(`PORT must be at most 65535, got ${port}`);
  const healthPort =
    env.GRIDTAB_HEALTH_PORT === undefined || env.GRIDTAB_HEALTH_PORT === ''
      ? null
      : intFrom(env.GRIDTAB_HEALTH_PORT, 0, 'GRIDTAB_HEALTH_PORT');
  if (healthPort !== null && healthPort > 65535)
    throw new Error(`GRIDTAB_HEALTH_PORT must be at most 65535, got ${healthPort}`);
  return {
    port,
    healthPort,
    host: env.HOST || '0.0.0.0',
    dataDir: resolve(env.DATA_DIR || './data'),
    adminToken: env.ADMIN_TOKEN || randomBytes(24).toString('base64url'),
    adminTokenGenerated: !env.ADMIN_TOKEN,
    viewerToken: env.VIEWER_TOKEN || null,
    fashionMnistDir: env.FASHION_MNIST_DIR || DEFAULT_FASHION_MNIST_DIR,
    staticDir: resolve(repoRoot, 'client/dist'),
    demoJob: env.GRIDTAB_DEMO_JOB !== '0',
    disconnectGraceMs: intFrom(env.GRIDTAB_DISCONNECT_GRACE_MS, 5000, 'GRIDTAB_DISCONNECT_GRACE_MS'),
    tickMs: 500,
    alertTickMs: 1000,
    socketMessageBytes: intFrom(
      env.GRIDTAB_SOCKET_MESSAGE_BYTES,
      MAX_SOCKET_MESSAGE_BYTES,
      'GRIDTAB_SOCKET_MESSAGE_BYTES',
    ),
    databaseUrl: env.DATABASE_URL || null,
    redisUrl: env.REDIS_URL || null,
    publicUrl: env.GRIDTAB_PUBLIC_URL || null,
    ownerTtlMs: Math.max(1000, intFrom(env.GRIDTAB_OWNER_TTL_MS, 5000, 'GRIDTAB_OWNER_TTL_MS')),
    redisChannel: env.GRIDTAB_REDIS_CHANNEL || 'socket.io',
    alerts: alertThresholdsFromEnv(env),
    logLevel: logLevelFrom(env.LOG_LEVEL),
    datasetMaxBytes:
      intFrom(env.GRIDTAB_DATASET_MAX_BYTES, DEFAULT_DATASET_MAX_BYTES, 'GRIDTAB_DATASET_MAX_BYTES') ||
      DEFAULT_DATASET_MAX_BYTES,
    importThreads: intFrom(env.GRIDTAB_IMPORT_THREADS, 0, 'GRIDTAB_IMPORT_THREADS'),
    security: securityConfigFromEnv(env),
    usage: usageConfigFromEnv(env),
    dataKeys: dataKeysFromEnv(env),
    streamingAggregation: onOff(env.GRIDTAB_STREAMING_AGGREGATION, true, 'GRIDTAB_STREAMING_AGGREGATION'),
  };
}
