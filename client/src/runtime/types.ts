/**
 * The contributor runtime's public surface, shared by the contribute page, the Node worker and
 * the simulated contributors in tests. The runtime is a state machine driven by the coordinator:
 * join -> request unit -> fetch shards and weights -> train -> submit -> repeat.
 */
import type { BackendName, BackendScore, VersionEvent } from '@gridtab/shared';

export type ContributorPhase =
  | 'idle' // created, not started
  | 'benchmarking' // measuring backends
  | 'connecting'
  | 'waiting' // joined, no unit available right now
  | 'fetching' // downloading shards or weights
  | 'training'
  | 'submitting'
  | 'paused'
  | 'error';

export interface ContributorState {
  phase: ContributorPhase;
  connected: boolean;
  contributorId: string | null;
  backends: BackendScore[];
  chosenBackend: BackendName | null;
  unitsDone: number;
  samplesDone: number;
  /** Training throughput of the last unit, samples per second. */
  samplesPerSec: number;
  /** Mean loss of the last unit's steps. */
  loss: number | null;
  /** Progress through the current unit's local steps, 0..1. */
  unitProgress: number;
  currentJobId: string | null;
  /** Versions announced by the coordinator since this runtime started, oldest first. */
  versions: VersionEvent[];
  lastError: string | null;
  /** Where this runtime's time went, summed over its units (absent until the first unit ends). */
  timing?: UnitTimings;
}

/**
 * Milliseconds summed over the units this runtime finished, phase by phase, so a tab's idle time
 * can be told apart: `waitMs` runs from the end of one unit (its submit answered) to the next
 * unit in hand (asking, waiting for a round to open); `fetchMs` downloads the base weights and
 * shards (`weightsMs` and `shardsMs`: until each was in hand, overlapping); `setupMs` is the rest
 * before the first step (model build or reuse, weights set, shards decoded, the unit saved);
 * `trainMs` the training loop (what the update reports); `submitMs` encoding and sending it until
 * the answer; `afterMs` what follows the answer (the one-off measurement of the job's model).
 */
export interface UnitTimings {
  units: number;
  waitMs: number;
  fetchMs: number;
  weightsMs: number;
  shardsMs: number;
  setupMs: number;
  trainMs: number;
  submitMs: number;
  afterMs: number;
}

export interface Contributor {
  readonly state: ContributorState;
  /** Shard and weight downloads in flight whose bytes are not in the cache yet. */
  readonly downloading: number;
  /** Benchmarks backends (once), connects, and starts taking units. */
  start(): Promise<void>;
  /** Stops taking units; a unit in training is finished or released, never half-submitted. */
  pause(): Promise<void>;
  /** Disconnects and frees backend memory. */
  stop(): Promise<void>;
  /**
   * Goes away like a closed tab: stops at once, drops the socket, releases nothing and keeps the
   * unit in progress in the cache (tests and the harness; a real tab is simply closed).
   */
  abandon(): Promise<void>;
  /** Called after every state change; returns an unsubscribe function. */
  subscribe(listener: (state: ContributorState) => void): () => void;
}
