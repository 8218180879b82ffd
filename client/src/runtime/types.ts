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
}

export interface Contributor {
  readonly state: ContributorState;
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
