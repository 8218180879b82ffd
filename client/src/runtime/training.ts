/**
 * Training one unit on this device: which backend (the job's own model decides once measured,
 * the start-up benchmark until then), fetching the base weights and shards, training with
 * checkpoints, retrying on the next backend when the GPU device is lost, and timing the job's
 * model on every backend after its first unit.
 */
import type { BackendName, BackendScore, WorkUnit } from '@gridtab/shared';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import { Aborted, type Trainer, type TrainResult, type UnitCheckpoint } from '@gridtab/shared/trainer';
import * as tf from '@tensorflow/tfjs';
import { chooseBackend, softwareRenderers } from './backends.ts';
import type { BlobFetcher } from './fetcher.ts';
import { architectureKey, type ModelScores } from './model-bench.ts';
import type { ContributorState } from './types.ts';

/** How often a training unit's progress reaches the page, at most (ms). */
const PROGRESS_MS = 100;

type BackendState = Pick<ContributorState, 'backends' | 'chosenBackend' | 'phase'>;

export interface TrainingDeps {
  fetcher: Pick<BlobFetcher, 'get'> & Partial<Pick<BlobFetcher, 'prefetch'>>;
  trainer: Pick<Trainer, 'trainUnit'>;
  modelScores: Pick<ModelScores, 'read' | 'measure' | 'forget' | 'observe'>;
  state: () => BackendState;
  set: (patch: Partial<ContributorState>) => void;
  /** Keeps the unit (and its latest checkpoint) in the cache, to continue after a reload. */
  keep: (unit: WorkUnit, checkpoint: UnitCheckpoint | null, backend: BackendName) => Promise<void>;
  stopped: () => boolean;
  /** The harness's label-flip attack; unset in real tabs. */
  labelMap?: (unit: WorkUnit) => Int32Array | undefined;
  checkpointEveryMs?: number;
  /**
   * Runs while the unit's weights and shards download, after the backend is set: the kernel
   * checks this model needs and start-up left out (the conv suites on webgpu).
   */
  prepare?: (unit: WorkUnit, backend: BackendName) => Promise<void>;
  log: (msg: string) => void;
}

/** The backend a unit trains on, and whether the job's model was measured here already. */
export interface BackendPlan {
  backend: BackendName;
  archKey: string;
  measured: boolean;
}

export class UnitTraining {
  /** The start-up micro-benchmark: the first guess for a model not measured yet. */
  private startupScores: BackendScore[] | null = null;
  /** The last unit's downloads: all of them, and until the weights and the shards were in hand (ms). */
  lastPhases = { fetchMs: 0, weightsMs: 0, shardsMs: 0 };

  constructor(private readonly deps: TrainingDeps) {}

  /**
   * The job's own model decides, once measured; until then the start-up guess does, so the
   * first unit is not delayed, and the measurement runs after it (a tab has one TF.js engine:
   * timing another backend cannot overlap training), switching for the next unit.
   * Null when no backend here can train the model.
   */
  async plan(unit: WorkUnit): Promise<BackendPlan | null> {
    this.startupScores ??= this.deps.state().backends;
    const archKey = await architectureKey(unit.model, unit.batchSize);
    const known = await this.deps.modelScores.read(archKey);
    if (known) this.deps.set({ backends: known.scores });
    const backend = chooseBackend(known?.scores ?? this.startupScores, unit.model, known?.observed);
    return backend ? { backend, archKey, measured: Boolean(known) } : null;
  }

  /** Fetches and trains the unit, from `from` when it continues after a reload. */
  async train(unit: WorkUnit, plan: BackendPlan, from: UnitCheckpoint | null): Promise<TrainResult> {
    const { deps } = this;
    const { backend } = plan;
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    deps.set({ phase: 'fetching', currentJobId: unit.jobId, unitProgress: 0, chosenBackend: backend });
    const fetchStart = performance.now();
    const since = () => performance.now() - fetchStart;
    const phases = { fetchMs: 0, weightsMs: 0, shardsMs: 0 };
    this.lastPhases = phases;
    const [[base, shards]] = await Promise.all([
      Promise.all([
        deps.fetcher.get('weights', unit.baseWeightsHash, unit.jobId).finally(() => {
          phases.weightsMs = since();
        }),
        Promise.all(unit.shardHashes.map((h) => deps.fetcher.get('shard', h, unit.jobId))).finally(() => {
          phases.shardsMs = since();
        }),
      ]),
      deps.prepare?.(unit, backend),
    ]);
    phases.fetchMs = since();
    // The next unit's shards, named by the offer: downloaded while this one trains.
    if (unit.prefetchShardHashes?.length)
      deps.fetcher.prefetch?.('shard', unit.prefetchShardHashes, unit.jobId);
    deps.set({ phase: 'training' });
    // Saved in the background (the contributor orders its writes): a reload in the first
    // moments of a unit finds nothing to resume and takes a fresh one, as before it started.
    if (!from) void deps.keep(unit, null, backend);
    let latest = from;
    // The page redraws on every state change (1-2 ms a time in a profile of a loaded tab): the
    // progress bar moves at most every PROGRESS_MS, and at the unit's end.
    let shownAt = Number.NEGATIVE_INFINITY;
    let loss: number | null = null;
    const progress = (done: number, total: number, stepLoss: number | null) => {
      if (stepLoss !== null) loss = stepLoss;
      const now = performance.now();
      if (done < total && now - shownAt < PROGRESS_MS) return;
      shownAt = now;
      deps.set({ unitProgress: done / total, ...(loss !== null ? { loss } : {}) });
    };
    const train = () =>
      deps.trainer.trainUnit(unit, bytesToFloat32(base), shards, progress, deps.stopped, {
        labelMap: deps.labelMap?.(unit),
        from: latest,
        checkpoint: async (cp) => {
          latest = cp;
          await deps.keep(unit, cp, backend);
        },
        checkpointEveryMs: deps.checkpointEveryMs,
      });
    try {
      return await train();
    } catch (e) {
      // A lost GPU device: same unit, same lease, next backend that can train this model.
      const next = chooseBackend(deps.state().backends, unit.model);
      if (e instanceof Aborted || !next || next === backend) throw e;
      await deps.modelScores.forget(plan.archKey); // a lost device: measure again next time
      deps.log(`training on ${backend} failed (${(e as Error).message}); retrying the unit on ${next}`);
      await tf.setBackend(next);
      deps.set({ chosenBackend: next });
      return await train();
    }
  }

  /**
   * Records what the unit just trained at on its backend, which decides the next unit's backend
   * with the measured scores (chooseBackend): a backend that trains slower than it timed is left.
   */
  async observe(unit: WorkUnit, plan: BackendPlan, samplesPerSec: number): Promise<void> {
    const { deps } = this;
    await deps.modelScores.observe(plan.archKey, plan.backend, samplesPerSec);
    const known = await deps.modelScores.read(plan.archKey);
    if (!known) return;
    const next = chooseBackend(known.scores, unit.model, known.observed);
    deps.set({ backends: known.scores, ...(next ? { chosenBackend: next } : {}) });
    if (next && next !== plan.backend)
      deps.log(`${plan.backend} trained at ${Math.round(samplesPerSec)} samples/s; next unit on ${next}`);
  }

  /** Times the unit's model on every backend that started here; the next unit uses the result. */
  async measure(unit: WorkUnit, archKey: string): Promise<void> {
    const { deps } = this;
    const phase = deps.state().phase;
    deps.set({ phase: 'benchmarking' });
    try {
      const started = (this.startupScores ?? deps.state().backends)
        .filter((s) => s.available)
        .map((s) => s.name);
      // A GPU backend on a software renderer (SwiftShader, llvmpipe: a machine without a GPU)
      // trains several times slower than WebAssembly on the same cores; timing it on the job's
      // model took 7.6 of this tab's 8.4 s of timing in bench:train (webgl 3.2 s, webgpu 4.5 s).
      const untimed = started.includes('wasm') ? await softwareRenderers(started) : {};
      const scores = await deps.modelScores.measure(unit, archKey, started, untimed);
      if (!scores) {
        deps.log(`model ${archKey.slice(0, 8)}: another tab is timing it; training on`);
        return;
      }
      const chosen = chooseBackend(scores, unit.model);
      deps.set({ backends: scores, ...(chosen ? { chosenBackend: chosen } : {}) });
      deps.log(
        `model ${archKey.slice(0, 8)}: ${scores.map((s) => `${s.name}=${s.samplesPerSec}`).join(' ')}; chose ${chosen}`,
      );
    } catch (e) {
      deps.log(`could not measure the job's model: ${(e as Error).message}`);
    } finally {
      deps.set({ phase });
    }
  }
}
