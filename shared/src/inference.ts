/**
 * The inference-subscriber protocol (socket.io namespace `/inference`): apps that embed the SDK
 * subscribe to a model alias, hear when it moves, and report telemetry per version. The SDK
 * imports only the types from here (`import type`), so zod stays out of its bundle.
 */
import { z } from 'zod';
import type { Result } from './errors.ts';

export const INFERENCE_NAMESPACE = '/inference';

/** Model and alias names: what fits in a URL path segment without escaping. */
export const REGISTRY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const subscribeSchema = z
  .object({
    name: z.string().regex(REGISTRY_NAME_PATTERN),
    alias: z.string().regex(REGISTRY_NAME_PATTERN),
    /** Stable per app install; decides which side of a canary split this client lands on. */
    clientKey: z.string().min(1).max(100).optional(),
  })
  .strict();
export type SubscribeMessage = z.input<typeof subscribeSchema>;

/** The version an alias gives one client, with what the SDK needs to load it. */
export interface ResolvedVersion {
  name: string;
  alias: string;
  versionId: string;
  hash: string;
  /** True when this client landed on the alias's canary version. */
  canary: boolean;
}

export const MAX_REPORT_CLASSES = 1000;

export const inferenceReportSchema = z
  .object({
    name: z.string().regex(REGISTRY_NAME_PATTERN),
    versionId: z.string().min(1).max(100),
    backend: z.string().max(20),
    predictions: z.number().int().min(0).max(1e9),
    errors: z.number().int().min(0).max(1e9),
    /** Predict latencies in ms since the last report (a sample of at most 1000). */
    latenciesMs: z.array(z.number().min(0).max(600_000)).max(1000),
    /** Predicted-class counts (argmax) since the last report, by class index. */
    classCounts: z.array(z.number().int().min(0).max(1e9)).max(MAX_REPORT_CLASSES),
    /** Mean and standard deviation of all input values since the last report. */
    inputMean: z.number().finite().nullable(),
    inputStd: z.number().finite().min(0).nullable(),
  })
  .strict();
export type InferenceReport = z.infer<typeof inferenceReportSchema>;

export interface AliasMovedEvent extends ResolvedVersion {}

type Ack<T> = (result: Result<T>) => void;

export interface InferenceClientEvents {
  'model:subscribe': (msg: SubscribeMessage, ack: Ack<ResolvedVersion>) => void;
  'inference:report': (msg: InferenceReport, ack?: Ack<{ kept: true }>) => void;
}

export interface InferenceServerEvents {
  /** The subscribed alias moved; `versionId` is what it now gives this client. */
  'model:promoted': (event: AliasMovedEvent) => void;
}
