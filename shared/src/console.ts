/**
 * The admin console protocol: the socket.io namespace the console page speaks, its event
 * maps, and zod schemas for every message the page sends. The token travels in the handshake
 * (`auth: { token }`); viewers receive snapshots and may read, only admins may act.
 */
import { z } from 'zod';
import type { DatasetImportProgress } from './dataset.ts';
import type { JobSpecInput, JobView, VersionView } from './job.ts';
import type { Ack } from './protocol.ts';

export const CONSOLE_NAMESPACE = '/console';

/** Pushed at most this often, and at once after a change made through the console. */
export const CONSOLE_SNAPSHOT_MS = 1000;

export const CONSOLE_ROLES = ['admin', 'viewer'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

export const consoleAuthSchema = z.object({ token: z.string().min(1).max(500) }).strict();

export const JOB_ACTIONS = ['pause', 'resume', 'cancel'] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

const jobId = z.string().min(1).max(100);
export const snapshotRequestSchema = z.object({}).strict();
export const jobControlSchema = z.object({ jobId, action: z.enum(JOB_ACTIONS) }).strict();
export const jobVersionsSchema = z.object({ jobId }).strict();

const contributorId = z.string().min(1).max(100);
export const contributorActionSchema = z.object({ contributorId }).strict();
export const contributorBanSchema = z
  .object({ contributorId, reason: z.string().trim().max(200).default('') })
  .strict();
export const jobStatsSchema = z.object({ jobId }).strict();

/**
 * What a contributor's runtime said about its device when it joined, updated by its progress
 * messages (kept while online).
 */
export interface ConsoleDevice {
  kind: 'browser' | 'node';
  /** Score per backend, in training samples per second: the job's model once measured, else the start-up benchmark. */
  backends: { name: string; available: boolean; samplesPerSec: number }[];
  /** The backend it trains on now (the join's choice until a progress message says otherwise). */
  chosenBackend?: string;
  userAgent: string | null;
}

/** Contributors in a console snapshot: the most recently seen page (older ones: GET /api/contributors). */
export const CONSOLE_CONTRIBUTOR_ROWS = 500;

export interface ConsoleContributor {
  id: string;
  online: boolean;
  backend: string | null;
  unitsDone: number;
  samplesDone: number;
  /** Throughput the contributor last reported (0 when offline). */
  samplesPerSec: number;
  lastSeen: string;
  /** Refused at join until an admin unbans it. */
  banned: boolean;
  /** Null while offline: the device is only known from the join message of a live socket. */
  device: ConsoleDevice | null;
  /** Trust in its results, 0..1, where the coordinator computes one. */
  reputation?: number;
  checks?: { passed: number; failed: number };
  quarantined?: boolean;
}

export const ALERT_RULES = [
  'accuracy-after-promotion',
  'drift',
  'rejection-rate',
  'no-progress',
  'budget',
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

export interface ConsoleAlert {
  /** `rule:subject`, stable while the condition lasts. */
  id: string;
  rule: AlertRule;
  /** What it is about: a job, a contributor, `model/alias` or `model/version`. */
  subject: string;
  message: string;
  /** Epoch ms when it fired. */
  since: number;
  /** Epoch ms when the condition cleared; null while active. */
  resolvedAt: number | null;
}

export interface CoordinatorTelemetry {
  /** Event-loop delay over the last snapshot period (perf_hooks.monitorEventLoopDelay). */
  eventLoopLagMs: { p50: number; p99: number; max: number };
  memory: { rssBytes: number; heapUsedBytes: number };
  sockets: { contributors: number; console: number; inference: number };
  /** Aggregate, evaluate and commit a round, over the recent rounds. */
  aggregation: { rounds: number; lastSeconds: number | null; p95Seconds: number | null };
  /** Store calls over the last snapshot period. */
  store: { calls: number; p50Ms: number | null; p95Ms: number | null };
}

export interface DeployedVersionTelemetry {
  model: string;
  versionId: string;
  /** Aliases that point at it (a canary split shows as `alias (canary)`). */
  aliases: string[];
  predictions: number;
  errors: number;
  errorRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  /** Predictions per backend the SDKs ran on. */
  backends: Record<string, number>;
}

export interface ConsoleModelSummary {
  name: string;
  jobId: string | null;
  latestVersionId: string | null;
  aliases: { alias: string; versionId: string; canary: { versionId: string; fraction: number } | null }[];
}

export interface JobRoundStats {
  round: number;
  versionId: string;
  units: number;
  contributors: number;
  samples: number;
  /** Time from the previous version to this one; null for the first. */
  seconds: number | null;
  samplesPerSec: number | null;
  testAccuracy: number | null;
}

export interface JobStats {
  jobId: string;
  rounds: JobRoundStats[];
  /** Refused updates since the coordinator started, by error code. */
  rejected: Record<string, number>;
}

export interface ConsoleSnapshot {
  /** Epoch milliseconds when the coordinator took it. */
  at: number;
  /** The role of the token this socket connected with. */
  role: ConsoleRole;
  contributorsOnline: number;
  samplesPerSec: number;
  contributors: ConsoleContributor[];
  jobs: JobView[];
  models: ConsoleModelSummary[];
  telemetry: { coordinator: CoordinatorTelemetry; models: DeployedVersionTelemetry[] };
  /** Active alerts, then the most recently resolved ones. */
  alerts: ConsoleAlert[];
}

export interface ConsoleClientEvents {
  'console:snapshot': (msg: z.input<typeof snapshotRequestSchema>, ack: Ack<ConsoleSnapshot>) => void;
  'job:versions': (msg: z.input<typeof jobVersionsSchema>, ack: Ack<VersionView[]>) => void;
  'job:create': (spec: JobSpecInput, ack: Ack<JobView>) => void;
  'job:control': (msg: z.input<typeof jobControlSchema>, ack: Ack<JobView>) => void;
  'job:stats': (msg: z.input<typeof jobStatsSchema>, ack: Ack<JobStats>) => void;
  /** Disconnects every socket of the contributor and frees its leases; it may come back. */
  'contributor:kick': (msg: z.input<typeof contributorActionSchema>, ack: Ack<{ sockets: number }>) => void;
  /** Kicks and refuses its joins (CONTRIBUTOR_BANNED) until unbanned; kept in the store. */
  'contributor:ban': (msg: z.input<typeof contributorBanSchema>, ack: Ack<{ sockets: number }>) => void;
  'contributor:unban': (
    msg: z.input<typeof contributorActionSchema>,
    ack: Ack<{ unbanned: boolean }>,
  ) => void;
}

export interface ConsoleServerEvents {
  'console:snapshot': (snapshot: ConsoleSnapshot) => void;
  /** Progress of a dataset upload's import (the upload itself is the browser's XHR progress). */
  'dataset:import': (progress: DatasetImportProgress) => void;
}

/** Events that change something: an admin token is needed, a viewer gets FORBIDDEN. */
export const CONSOLE_ADMIN_EVENTS = [
  'job:create',
  'job:control',
  'contributor:kick',
  'contributor:ban',
  'contributor:unban',
] as const satisfies readonly (keyof ConsoleClientEvents)[];
