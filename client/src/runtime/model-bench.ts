/**
 * Backend choice by the job's own model: a few training steps of the unit's model (its input
 * shape from unit.data, the unit's batch size) on each backend that can train it. A 784-128-10
 * MLP does not predict CNN speed (DESIGN.md: wasm leads on the MLP, WebGL on a CNN), so the
 * micro-benchmark at start is only the first guess.
 *
 * Scores are kept per architecture (sha256 of the model JSON and the batch size) in the tab's
 * cache (IndexedDB in a browser), so a returning tab or a second tab of the origin measures
 * nothing twice; a lost device forgets them. Tabs of one origin measure one at a time through
 * the Web Locks API: concurrent timing runs would share the CPU/GPU and read each other's load.
 */
import { type BackendName, type BackendScore, sha256Hex, type WorkUnit } from '@gridtab/shared';
import { buildModel } from '@gridtab/shared/tf';
import * as tf from '@tensorflow/tfjs';
import { missingTrainingKernels, withTimeout } from './backends.ts';
import type { BlobCache } from './cache.ts';

/** Timed steps after one warm-up step (shader compiles, buffer allocation) that is not counted. */
export const TIMED_STEPS = 3;
const STEP_BUDGET_MS = 2000;
const LOCK_NAME = 'gridtab-model-bench';
const STATE_PREFIX = 'model-scores:';
const OBSERVED_PREFIX = 'model-observed:';
/** A backend whose timing run has not ended by then (a stuck GPU queue) cannot train here. */
const BACKEND_TIMEOUT_MS = 60_000;
/** Weight of the newest unit in a backend's observed samples/s (the rest: the earlier ones). */
const OBSERVED_WEIGHT = 0.5;

/** Keys already computed, by their text (a tab asks once per unit, for the same few models). */
const keys = new Map<string, Promise<string>>();

export function architectureKey(model: Record<string, unknown>, batchSize: number): Promise<string> {
  const text = `${JSON.stringify(model)}|batch=${batchSize}`;
  let key = keys.get(text);
  if (!key) {
    if (keys.size >= 32) keys.clear();
    key = sha256Hex(new TextEncoder().encode(text));
    keys.set(text, key);
  }
  return key;
}

export type ModelShape = Pick<WorkUnit, 'model' | 'batchSize'> &
  Partial<Pick<WorkUnit, 'optimizer'>> & { data: { inputShape: number[] } };

/** Samples/s of `steps` SGD steps of the model on random data, on the active backend. */
async function timeSteps(unit: ModelShape, steps: number): Promise<number> {
  const model = await buildModel(unit.model);
  const outShape = (model.outputs[0].shape as (number | null)[]).map((d) => d ?? unit.batchSize);
  const x = tf.randomUniform([unit.batchSize, ...unit.data.inputShape]);
  const y = tf.randomUniform(outShape);
  // The unit's optimizer: Adam's two moment updates per weight cost more on some backends.
  const optimizer = unit.optimizer === 'sgd' ? tf.train.sgd(1e-3) : tf.train.adam(1e-3);
  // Loss kind hardly matters for timing: the gradients flow through the same layers.
  const step = () =>
    optimizer.minimize(
      () => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
    );
  try {
    const warm = step();
    await warm?.data();
    warm?.dispose();
    const started = performance.now();
    let done = 0;
    // At least one timed step; the rest only within the budget, so a slow backend (the cpu
    // backend on a CNN: seconds a step) costs the tab seconds, not minutes.
    for (let i = 0; i < steps && (i === 0 || performance.now() - started < STEP_BUDGET_MS); i++, done++) {
      const cost = step();
      // Read back every step: queued GPU work must be counted, and it yields to the event loop.
      await cost?.data();
      cost?.dispose();
    }
    return (done * unit.batchSize) / ((performance.now() - started) / 1000);
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * Scores every candidate on this model; those in `untimed` are scored "cannot train" with the
 * reason given, without timing them. A backend missing a training kernel, or one that throws
 * while training, is "cannot train" with the reason (the missing kernel's name) in `error`.
 * Leaves the backend that was active before active again.
 */
export async function measureModel(
  unit: ModelShape,
  candidates: BackendName[],
  steps = TIMED_STEPS,
  untimed: Partial<Record<BackendName, string>> = {},
): Promise<BackendScore[]> {
  const previous = tf.getBackend();
  const scores: BackendScore[] = [];
  try {
    for (const name of candidates) {
      const fail = (error: string) => scores.push({ name, available: false, samplesPerSec: 0, error });
      const skip = untimed[name];
      if (skip) {
        fail(skip);
        continue;
      }
      if (!tf.findBackendFactory(name)) {
        fail('not registered in this build');
        continue;
      }
      const missing = missingTrainingKernels(name, unit.model);
      if (missing.length > 0) {
        fail(`cannot train this model: no ${missing.join(', ')}`);
        continue;
      }
      try {
        if (!(await tf.setBackend(name))) throw new Error('backend failed to initialise');
        await tf.ready();
        const samplesPerSec = await withTimeout(timeSteps(unit, steps), BACKEND_TIMEOUT_MS, `timing ${name}`);
        scores.push({ name, available: true, samplesPerSec: Math.round(samplesPerSec) });
      } catch (e) {
        fail(`cannot train this model: ${String((e as Error).message).slice(0, 300)}`);
      }
    }
  } finally {
    if (previous && tf.getBackend() !== previous) await tf.setBackend(previous);
  }
  return scores;
}

/**
 * The Web Locks API where the platform has it (browsers; Node 20 has none: one process, one
 * measurer). With ifAvailable, fn gets null at once when another holder has the lock.
 */
type Locks = {
  request<T>(name: string, options: { ifAvailable: true }, fn: (lock: unknown) => Promise<T>): Promise<T>;
};

function platformLocks(): Locks | undefined {
  const nav = (globalThis as { navigator?: { locks?: Locks } }).navigator;
  return nav?.locks;
}

export interface ScoresRead {
  scores: BackendScore[];
  /** Samples/s of real units by backend (chooseBackend weighs them over timed scores). */
  observed: Partial<Record<BackendName, number>>;
}

/** Per-architecture scores in the cache, measured under an origin-wide lock. */
export class ModelScores {
  constructor(
    private readonly cache: BlobCache,
    private readonly locks: Locks | undefined = platformLocks(),
  ) {}

  /** The measured scores, with the samples/s of real units in place where a backend trained some. */
  async get(key: string): Promise<BackendScore[] | null> {
    return (await this.read(key))?.scores ?? null;
  }

  /** get()'s scores and the observations they include, from one read of each; null if not measured. */
  async read(key: string): Promise<ScoresRead | null> {
    const [measured, observed] = await Promise.all([
      this.cache.getState<BackendScore[]>(STATE_PREFIX + key).catch(() => null),
      this.observations(key),
    ]);
    if (!measured) return null;
    const scores = measured.map((s) =>
      observed[s.name] !== undefined ? { ...s, samplesPerSec: observed[s.name]! } : s,
    );
    return { scores, observed };
  }

  /** Samples/s of the real units this model trained here, by backend (a moving average). */
  async observations(key: string): Promise<Partial<Record<BackendName, number>>> {
    return (
      (await this.cache
        .getState<Partial<Record<BackendName, number>>>(OBSERVED_PREFIX + key)
        .catch(() => null)) ?? {}
    );
  }

  /**
   * Records a real unit's samples/s on `backend`. The micro-benchmark is only a forecast: what
   * units actually take decides from then on (chooseBackend), so a backend that timed well on
   * random data and trains slowly is left after one unit.
   */
  async observe(key: string, backend: BackendName, samplesPerSec: number): Promise<void> {
    if (!Number.isFinite(samplesPerSec) || samplesPerSec <= 0) return;
    const seen = await this.observations(key);
    const before = seen[backend];
    const next = before === undefined ? samplesPerSec : before + OBSERVED_WEIGHT * (samplesPerSec - before);
    await this.cache
      .putState(OBSERVED_PREFIX + key, { ...seen, [backend]: Math.round(next) })
      .catch(() => {});
  }

  async forget(key: string): Promise<void> {
    await this.cache.deleteState(STATE_PREFIX + key).catch(() => {});
    await this.cache.deleteState(OBSERVED_PREFIX + key).catch(() => {});
  }

  /**
   * Measures unless another tab of the origin did. Null when another tab is measuring right now:
   * the caller trains on with its current choice and asks again after its next unit, when the
   * other tab's scores are in the cache. (Waiting for the lock kept every other tab of the
   * origin idle for the seconds the timing takes.)
   */
  async measure(
    unit: ModelShape,
    key: string,
    candidates: BackendName[],
    untimed: Partial<Record<BackendName, string>> = {},
  ): Promise<BackendScore[] | null> {
    const run = async () => {
      const done = await this.get(key);
      if (done) return done;
      const scores = await measureModel(unit, candidates, TIMED_STEPS, untimed);
      await this.cache.putState(STATE_PREFIX + key, scores);
      return scores;
    };
    if (!this.locks) return run();
    return this.locks.request(LOCK_NAME, { ifAvailable: true }, (lock) =>
      lock ? run() : Promise.resolve(null),
    );
  }
}
