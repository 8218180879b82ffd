/**
 * The contributor protocol: socket.io event maps shared by the coordinator and the client
 * runtime, and zod schemas for every message a tab sends (a tab is never trusted).
 * Event names are `domain:verb`. Binary update payloads travel as a separate argument so
 * socket.io sends them as binary attachments over WebSocket.
 */
import { z } from 'zod';
import { CODEC_NAMES, type CodecSpec } from './codecs/spec.ts';
import type { DataSpec } from './dataset.ts';
import type { Result } from './errors.ts';
import type { VersionMetrics } from './job.ts';

export const PROTOCOL_VERSION = 1;

/** Socket.io namespace for contributor tabs and workers. */
export const CONTRIBUTOR_NAMESPACE = '/contributors';

/** Transport limit; anything bigger drops the socket, so updates are checked well below it. */
export const MAX_SOCKET_MESSAGE_BYTES = 32 * 1024 * 1024;
/** Application limit on one update payload: refused with PAYLOAD_TOO_LARGE, socket kept. */
export const MAX_UPDATE_BYTES = 16 * 1024 * 1024;

export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export const backendScoreSchema = z
  .object({
    name: z.enum(BACKEND_NAMES),
    available: z.boolean(),
    /** Micro-benchmark result in training samples per second (0 when unavailable). */
    samplesPerSec: z.number().min(0).max(1e9),
    error: z.string().max(500).optional(),
  })
  .strict();
export type BackendScore = z.infer<typeof backendScoreSchema>;

export const joinSchema = z
  .object({
    protocolVersion: z.number().int(),
    /** Stable per browser profile (kept in IndexedDB) so a reload is the same contributor. */
    clientId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
    backends: z.array(backendScoreSchema).max(8),
    chosenBackend: z.enum(BACKEND_NAMES),
    userAgent: z.string().max(500).optional(),
    kind: z.enum(['browser', 'node']).default('browser'),
  })
  .strict();
export type JoinMessage = z.input<typeof joinSchema>;

export interface JoinAck {
  contributorId: string;
  heartbeatMs: number;
  /**
   * The largest socket message the coordinator takes; an update bigger than about this travels
   * in `unit:chunk` messages first. Absent from older coordinators (then MAX_SOCKET_MESSAGE_BYTES).
   */
  maxMessageBytes?: number;
}

/** The longest a `unit:request` may ask to be held (`waitMs`); well under a client's ack timeout. */
export const MAX_UNIT_WAIT_MS = 30_000;

export const unitRequestSchema = z
  .object({
    /** Backends this tab can train on; the coordinator only offers jobs they can train. */
    backend: z.enum(BACKEND_NAMES).optional(),
    /**
     * How long the coordinator may hold the request when no unit is free now, answering it as
     * soon as one opens (long polling); absent or 0: answered at once.
     */
    waitMs: z.number().int().min(0).max(MAX_UNIT_WAIT_MS).optional(),
  })
  .strict();

export interface WorkUnit {
  unitId: string;
  leaseId: string;
  jobId: string;
  round: number;
  baseVersionId: string;
  baseWeightsHash: string;
  /** TF.js layers topology; the same object for every unit of the job. */
  model: Record<string, unknown>;
  /** `name@version` of the dataset version the shards belong to. */
  datasetId: string;
  /** How to turn the shards into tensors and what to train for (task, shape, normalization, loss). */
  data: DataSpec;
  shardHashes: string[];
  batchSize: number;
  /** The unit's steps; with `trainBudgetMs`, the most it may train. */
  localSteps: number;
  /**
   * Units sized to time (`rounds.unitSizing: 'time'`): train until this much training time has
   * passed, then stop after the step in hand, but not before `minSteps`. The update claims the
   * samples of the steps it trained.
   */
  trainBudgetMs?: number;
  minSteps?: number;
  learningRate: number;
  /** `adamw` (DiLoCo's inner optimizer) is Adam with decoupled weight decay `weightDecay`. */
  optimizer: 'adam' | 'sgd' | 'adamw';
  weightDecay?: number;
  seed: number;
  /** The job's wire format: the update must be encoded with it. */
  codec: CodecSpec;
  /** Epoch milliseconds; an update arriving later is refused. */
  deadline: number;
  /**
   * A hint: the shards this contributor's next unit of the job will likely train on (with
   * synchronous rounds, the unit at the same place in the next round, which the coordinator then
   * offers to this contributor first). Fetch them while this unit trains.
   */
  prefetchShardHashes?: string[];
}

export type UnitOffer =
  | { unit: WorkUnit }
  | {
      unit: null;
      retryMs: number;
      /**
       * With several coordinators: the URL of one that runs a job this one does not (its owner);
       * a client that knows the URL moves there.
       */
      redirect?: string;
    };

export const updateMetaSchema = z
  .object({
    leaseId: z.string().min(1).max(100),
    unitId: z.string().min(1).max(100),
    baseVersionId: z.string().min(1).max(100),
    numSamples: z.number().int().min(1).max(10_000_000),
    /** Must be the job's codec (the unit names it). */
    codec: z.enum(CODEC_NAMES),
    /** Lowercase hex sha256 of the payload bytes, as sent: a corrupted payload is refused. */
    checksum: z.string().regex(/^[0-9a-f]{64}$/),
    /** Mean training loss over the unit's steps, as the tab measured it. */
    loss: z.number().finite(),
    trainMs: z.number().min(0).max(86_400_000),
    backend: z.enum(BACKEND_NAMES),
    /** The update was sent in chunks under this id; the submit's own payload is then empty. */
    uploadId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{8,64}$/)
      .optional(),
  })
  .strict();
export type UpdateMeta = z.infer<typeof updateMetaSchema>;

/**
 * One piece of an update larger than the socket message limit. Pieces of one upload share its
 * id, count, total size and the sha256 of the whole update; each is acknowledged. The update
 * is used only once `unit:submit` names the upload and every piece is in and verified.
 */
export const chunkHeaderSchema = z
  .object({
    uploadId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
    index: z.number().int().min(0),
    count: z.number().int().min(1).max(100_000),
    totalBytes: z.number().int().min(1).max(MAX_UPDATE_BYTES),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict()
  .refine((h) => h.index < h.count, { message: 'index must be below count', path: ['index'] });
export type ChunkHeader = z.infer<typeof chunkHeaderSchema>;

export interface ChunkAck {
  /** Pieces of this upload received so far. */
  received: number;
}

export interface UpdateAck {
  accepted: true;
  round: number;
}

export const progressSchema = z
  .object({
    samplesPerSec: z.number().min(0).max(1e9),
    loss: z.number().finite().nullable(),
    unitsDone: z.number().int().min(0),
    /**
     * The backend scores now in use (the job's own model once measured, else the start-up
     * benchmark) and the backend chosen; optional, so older runtimes still report progress.
     */
    backends: z.array(backendScoreSchema).max(8).optional(),
    chosenBackend: z.enum(BACKEND_NAMES).optional(),
  })
  .strict();
export type ProgressMessage = z.infer<typeof progressSchema>;

export const releaseSchema = z.object({ leaseId: z.string().min(1).max(100) }).strict();

export interface VersionEvent {
  jobId: string;
  versionId: string;
  round: number;
  /**
   * Null until the version is evaluated: a version is announced at its commit (`evaluated:
   * false`) and again once its test-set evaluation lands (`evaluated: true`, same versionId).
   */
  metrics: VersionMetrics;
  /** The version's weights, so a tab can fetch them before its next unit names them. */
  hash?: string;
  /** Absent from coordinators that evaluated before announcing (the metrics are final). */
  evaluated?: boolean;
}

export type Ack<T> = (result: Result<T>) => void;

export interface ContributorClientEvents {
  'contributor:join': (msg: JoinMessage, ack: Ack<JoinAck>) => void;
  'unit:request': (msg: z.input<typeof unitRequestSchema>, ack: Ack<UnitOffer>) => void;
  'unit:submit': (meta: UpdateMeta, payload: ArrayBuffer | Uint8Array, ack: Ack<UpdateAck>) => void;
  'unit:chunk': (header: ChunkHeader, bytes: ArrayBuffer | Uint8Array, ack: Ack<ChunkAck>) => void;
  'unit:release': (msg: z.input<typeof releaseSchema>, ack: Ack<{ released: boolean }>) => void;
  'contributor:progress': (msg: ProgressMessage) => void;
}

export interface ContributorServerEvents {
  /** A new round opened or a unit was freed: idle tabs should ask for work. */
  'unit:available': () => void;
  'job:version': (event: VersionEvent) => void;
}
