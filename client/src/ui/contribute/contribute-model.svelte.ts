/**
 * State behind the contribute page: the runtime's latest ContributorState made reactive, the
 * start and pause actions, the job's version history, and the `window.__gridtab` test hook.
 * The page components only read from here and call its methods.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { Contributor, ContributorState } from '../../runtime/types.ts';
import { isRunning } from './phases.ts';
import { type AccuracyPoint, VersionHistory } from './version-history.svelte.ts';

/** Read by Playwright tests and by people poking at a kiosk tab from devtools. */
export interface GridTabHook {
  state: ContributorState;
  /**
   * TF.js's wasm backend as it runs in this tab: whether the page allows threads (cross-origin
   * isolated, SharedArrayBuffer) and how many it started, null while it has not started. A
   * build that broke its pthread workers shows here as a backend that never starts.
   */
  wasm(): { multithreadSupport: boolean; threads: number | null };
  /** Downloads in flight whose bytes are not in the cache yet (a reload now would lose them). */
  downloading(): number;
}

function wasmNow(): { multithreadSupport: boolean; threads: number | null } {
  const multithreadSupport = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  // findBackend returns a backend only once it initialized; getThreadsCount throws before.
  return { multithreadSupport, threads: tf.findBackend('wasm') ? getThreadsCount() : null };
}

declare global {
  interface Window {
    __gridtab?: GridTabHook;
  }
}

/** Shown until the runtime's state is read in the constructor. */
const BEFORE_START: ContributorState = {
  phase: 'idle',
  connected: false,
  contributorId: null,
  backends: [],
  chosenBackend: null,
  unitsDone: 0,
  samplesDone: 0,
  samplesPerSec: 0,
  loss: null,
  unitProgress: 0,
  currentJobId: null,
  versions: [],
  lastError: null,
};

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class ContributeModel {
  /** Raw: the runtime hands over whole snapshots, so deep proxies would only cost time. */
  state = $state.raw<ContributorState>(BEFORE_START);
  /** Actions in flight; buttons are disabled meanwhile so a double click does not repeat them. */
  starting = $state(false);
  pausing = $state(false);
  /** A rejected start() or pause(); the runtime's own failures arrive as state.lastError. */
  actionError = $state<string | null>(null);

  readonly history: VersionHistory;
  readonly running = $derived(isRunning(this.state.phase));
  /** A start() in flight blocks a second click until the phase moves; it may stay pending. */
  readonly awaitingStart = $derived(this.starting && this.state.phase === 'idle');
  readonly canStart = $derived(!this.running && !this.awaitingStart && !this.pausing);
  // Not tied to `starting`: start() may stay pending for as long as the runtime works.
  readonly canPause = $derived(this.running && !this.pausing);
  readonly error = $derived(this.actionError ?? this.state.lastError);
  readonly chosen = $derived(this.state.backends.find((b) => b.name === this.state.chosenBackend) ?? null);

  /** The job whose accuracy is charted: the one this tab trains, else what the coordinator runs. */
  // `.by` closures: `history` is only assigned in the constructor, after field initializers.
  readonly jobId = $derived.by(() => this.state.currentJobId ?? this.history.defaultJobId);
  readonly job = $derived.by(() => this.history.jobs.find((j) => j.id === this.jobId) ?? null);
  readonly points = $derived.by((): AccuracyPoint[] =>
    this.jobId ? (this.history.byJob[this.jobId] ?? []) : [],
  );
  readonly latestAccuracy = $derived(
    this.points.findLast((p) => p.accuracy !== null)?.accuracy ?? this.job?.metrics.testAccuracy ?? null,
  );

  readonly #contributor: Contributor;
  readonly #hook: GridTabHook;

  constructor(contributor: Contributor, coordinatorUrl: string) {
    this.#contributor = contributor;
    this.history = new VersionHistory(coordinatorUrl);
    this.state = contributor.state;
    // One hook object whose `state` is replaced, so a test holding the object sees updates too.
    this.#hook = { state: contributor.state, wasm: wasmNow, downloading: () => contributor.downloading };
    window.__gridtab = this.#hook;
  }

  /**
   * Follows the runtime and loads history; returns the function that stops following. Called
   * once from the entry, not from a component effect: the listener reads state, which an effect
   * would take as a dependency and re-subscribe on.
   */
  connect(): () => void {
    void this.history.load();
    return this.#contributor.subscribe((next) => this.#receive(next));
  }

  async start(): Promise<void> {
    if (!this.canStart) return;
    this.starting = true;
    this.actionError = null;
    try {
      await this.#contributor.start();
    } catch (err) {
      this.actionError = `Could not start: ${message(err)}`;
    } finally {
      this.starting = false;
    }
  }

  async pause(): Promise<void> {
    if (!this.canPause) return;
    this.pausing = true;
    this.actionError = null;
    try {
      await this.#contributor.pause();
    } catch (err) {
      this.actionError = `Could not pause: ${message(err)}`;
    } finally {
      this.pausing = false;
    }
  }

  #receive(next: ContributorState): void {
    this.#hook.state = next;
    // A fresh object each time: the runtime may mutate and re-send the same one.
    this.state = { ...next };
    this.history.ingest(next.versions);
    if (next.currentJobId) void this.history.ensureJob(next.currentJobId);
  }
}
