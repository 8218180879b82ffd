/**
 * The admin console protocol: the socket.io namespace the console page speaks, its event
 * maps, and zod schemas for every message the page sends. The token travels in the handshake
 * (`auth: { token }`); viewers receive snapshots and may read, only admins may act.
 */
import { z } from 'zod';
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

export interface ConsoleContributor {
  id: string;
  online: boolean;
  backend: string | null;
  unitsDone: number;
  samplesDone: number;
  /** Throughput the contributor last reported (0 when offline). */
  samplesPerSec: number;
  lastSeen: string;
  /** Spot-check agreement, 0..1 (absent until the contributor's first check). */
  reputation?: number;
  checks?: { passed: number; failed: number };
  /** Failed spot-checks: gets no units, its updates are refused (QUARANTINED). */
  quarantined?: boolean;
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
}

export interface ConsoleClientEvents {
  'console:snapshot': (msg: z.input<typeof snapshotRequestSchema>, ack: Ack<ConsoleSnapshot>) => void;
  'job:versions': (msg: z.input<typeof jobVersionsSchema>, ack: Ack<VersionView[]>) => void;
  'job:create': (spec: JobSpecInput, ack: Ack<JobView>) => void;
  'job:control': (msg: z.input<typeof jobControlSchema>, ack: Ack<JobView>) => void;
}

export interface ConsoleServerEvents {
  'console:snapshot': (snapshot: ConsoleSnapshot) => void;
}

/** Events that change something: an admin token is needed, a viewer gets FORBIDDEN. */
export const CONSOLE_ADMIN_EVENTS = [
  'job:create',
  'job:control',
] as const satisfies readonly (keyof ConsoleClientEvents)[];
