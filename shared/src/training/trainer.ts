/**
 * Trains one work unit: builds the job's model (kept across units of the same spec), loads the
 * base weights, runs the unit's local steps on its shards with a seeded batch order, and
 * returns the delta from the base. Stops between steps when asked (pause, shutdown). At its
 * yield points it can hand out a checkpoint (weights, optimizer state, step, loss so far), and it
 * can start from one: the batch order is replayed from the seed, so a resumed unit trains the
 * same batches it would have trained without the interruption.
 * It lives in shared/ because both sides run it: a contributor trains its units with it, and the
 * coordinator's spot-checks recompute a unit with it (coordinator does not depend on client).
 */
import * as tf from '@tensorflow/tfjs';
import type { WorkUnit } from '../protocol.ts';
import { mulberry32 } from '../random.ts';
import {
  buildModel,
  getFlatWeights,
  lossPerSample,
  setFlatWeights,
  shardsToRows,
  shardToTensors,
} from '../tf.ts';
import { fusedLoss } from './fused.ts';

export interface TrainResult {
  delta: Float32Array;
  numSamples: number;
  meanLoss: number;
  trainMs: number;
}

/** A unit part-way through; structured-clone data, so it can be kept in IndexedDB. */
export interface UnitCheckpoint {
  /** Steps done. */
  step: number;
  /** The model's flat weights after `step` steps. */
  weights: Float32Array;
  /** The optimizer's own variables (Adam's moments, the iteration count). */
  optimizer: { name: string; shape: number[]; data: Float32Array }[];
  lossSum: number;
  lossCount: number;
  /** Training time spent so far, milliseconds. */
  trainMs: number;
}

export interface ResumeOptions {
  /** Start from this checkpoint instead of the base weights. */
  from?: UnitCheckpoint | null;
  /** Called at yield points, at most every `checkpointEveryMs`. */
  checkpoint?: (cp: UnitCheckpoint) => Promise<void>;
  checkpointEveryMs?: number;
}

export interface TrainOptions {
  /** Label l is trained as labelMap[l] (the harness's label-flip attack); unset in real tabs. */
  labelMap?: Int32Array;
  /**
   * Train through the fused loss (default: on webgpu only). It is the layers loss, probability
   * clipping included (fused.ts), so both paths give the same update up to float rounding; this
   * only chooses which code runs. The coordinator's spot-check replica of a webgpu tab's unit sets
   * it, so that the replica runs the tab's code path (the same ops, on TF.js) too.
   */
  fused?: boolean;
}

export class Aborted extends Error {
  constructor() {
    super('training was stopped');
  }
}

const LOSS_EVERY = 5;

/**
 * Lets the event loop run (rendering, socket heartbeats, input) between training steps.
 * A MessageChannel message, not setTimeout: browsers clamp timers in background tabs to a
 * second or more, which would stall a contributor tab that is not in front.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** One-hot labels with class l moved to column map[l]: new column j is old column map^-1(j). */
function relabel(oneHot: tf.Tensor, map: Int32Array): tf.Tensor {
  const inverse = new Int32Array(map.length);
  for (let l = 0; l < map.length; l++) inverse[map[l]] = l;
  const out = tf.tidy(() => tf.gather(oneHot, tf.tensor1d(inverse, 'int32'), 1));
  oneHot.dispose();
  return out;
}

export class Trainer {
  private model: tf.LayersModel | null = null;
  private modelKey = '';
  /** The largest unit's input rows so far (wasm and cpu), reused: a Trainer trains one unit at a time. */
  private rows: Float32Array | undefined;

  async trainUnit(
    unit: WorkUnit,
    base: Float32Array,
    shards: Uint8Array[],
    onStep: (done: number, total: number, loss: number | null) => void,
    shouldStop: () => boolean,
    options: TrainOptions & ResumeOptions = {},
  ): Promise<TrainResult> {
    const { labelMap } = options;
    const key = JSON.stringify(unit.model);
    if (!this.model || key !== this.modelKey || tf.getBackend() !== this.modelBackend) {
      this.model?.dispose();
      this.model = await buildModel(unit.model);
      this.modelKey = key;
      this.modelBackend = tf.getBackend();
    }
    const model = this.model;
    setFlatWeights(model, base);
    const data = unit.data;
    // On wasm and cpu a batch is copied out of the unit's inputs here, in JS: the wasm backend's
    // gather spent about 2 ms on 64 rows of 784 (index arithmetic per element), a sixth of a
    // demo unit's training in a Chromium profile. The inputs are then decoded straight into rows
    // and never made a tensor. On GPU backends the gather runs on the device.
    const backend = tf.getBackend();
    const inJs = backend === 'wasm' || backend === 'cpu' ? shardsToRows(shards, data, this.rows) : null;
    if (inJs && inJs.rows.length > (this.rows?.length ?? 0)) this.rows = inJs.rows;
    let x: tf.Tensor | null = null;
    let oneHot: tf.Tensor2D;
    if (inJs) oneHot = inJs.y;
    else {
      const parts = shards.map((s) => shardToTensors(s, data));
      x = parts.length === 1 ? parts[0].x : tf.concat(parts.map((p) => p.x));
      oneHot = parts.length === 1 ? parts[0].y : (tf.concat(parts.map((p) => p.y)) as tf.Tensor2D);
      if (parts.length > 1) tf.dispose(parts.flatMap((p) => [p.x, p.y]));
    }
    const y = labelMap && data.task.kind === 'classification' ? relabel(oneHot, labelMap) : oneHot;
    const rows = inJs?.rows ?? null;
    const n = inJs ? inJs.count : x!.shape[0];
    const rowShape = data.inputShape;
    const rowSize = rowShape.reduce((a, b) => a * b, 1);
    const rand = mulberry32(unit.seed);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    // On webgpu, classifiers our kernels cover train through them (fused dense, fused softmax-xent).
    const fused =
      data.task.kind === 'classification' && (options.fused ?? tf.getBackend() === 'webgpu')
        ? fusedLoss(model)
        : null;
    const layersLoss = (xb: tf.Tensor, yb: tf.Tensor2D) => {
      const p = model.apply(xb, { training: true }) as tf.Tensor2D;
      return tf.mean(lossPerSample(data, p, yb)) as tf.Scalar;
    };
    const lossOf = fused ?? layersLoss;
    const optimizer =
      unit.optimizer === 'sgd' ? tf.train.sgd(unit.learningRate) : tf.train.adam(unit.learningRate);
    // AdamW (Loshchilov & Hutter 2019): Adam plus weight decay applied to the weights directly,
    // not through the gradient, so the adaptive scaling does not weaken it.
    const decay = unit.optimizer === 'adamw' ? 1 - unit.learningRate * (unit.weightDecay ?? 0) : 1;
    const shuffle = () => {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    };
    shuffle();
    let cursor = 0;
    const from = options.from ?? null;
    let lossSum = from?.lossSum ?? 0;
    let lossCount = from?.lossCount ?? 0;
    const first = from ? Math.min(from.step, unit.localSteps) : 0;
    // Replays the batch order up to the checkpoint's step (cheap: index arithmetic only).
    for (let step = 0; step < first; step++) {
      if (cursor + unit.batchSize > n) {
        shuffle();
        cursor = 0;
      }
      cursor += unit.batchSize;
    }
    if (from) {
      setFlatWeights(model, from.weights);
      const named = from.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape) }));
      await optimizer.setWeights(named);
      tf.dispose(named.map((w) => w.tensor));
    }
    const started = performance.now() - (from?.trainMs ?? 0);
    let lastCheckpoint = performance.now();
    const save = async (step: number) => {
      if (!options.checkpoint || performance.now() - lastCheckpoint < (options.checkpointEveryMs ?? 2000))
        return;
      const weights = await getFlatWeights(model);
      const optimizerState = await Promise.all(
        (await optimizer.getWeights()).map(async (w) => ({
          name: w.name,
          shape: w.tensor.shape,
          data: Float32Array.from(await w.tensor.data()),
        })),
      );
      await options.checkpoint({
        step,
        weights,
        optimizer: optimizerState,
        lossSum,
        lossCount,
        trainMs: performance.now() - started,
      });
      lastCheckpoint = performance.now();
    };
    // Units sized to time: the first step that ends past the budget is the last (minSteps at least).
    const budget = unit.trainBudgetMs;
    const minSteps = Math.min(unit.localSteps, Math.max(1, unit.minSteps ?? 1));
    const over = (done: number) =>
      done >= unit.localSteps ||
      (budget !== undefined && done >= minSteps && performance.now() - started >= budget);
    let steps = first;
    try {
      for (let step = first; step < unit.localSteps; step++) {
        if (shouldStop()) throw new Aborted();
        if (cursor + unit.batchSize > n) {
          shuffle();
          cursor = 0;
        }
        const picks = order.subarray(cursor, cursor + unit.batchSize);
        const idx = tf.tensor1d(picks, 'int32');
        cursor += unit.batchSize;
        // The batch is gathered before the tape starts: recorded inside minimize, each gather
        // saved its input for the backward pass, a clone of the unit's whole data set every step
        // (a tenth of a tab's CPU for the demo job, measured in a Chromium profile).
        const xb = rows
          ? tf.tensor(gatherRows(rows, rowSize, picks), [picks.length, ...rowShape], 'float32')
          : tf.gather(x!, idx);
        const yb = tf.gather(y, idx) as tf.Tensor2D;
        const cost = optimizer.minimize(() => lossOf(xb, yb), true, vars)!;
        tf.dispose([idx, xb, yb]);
        if (decay !== 1)
          tf.tidy(() => {
            for (const v of vars) v.assign(v.mul(decay));
          });
        let loss: number | null = null;
        steps = step + 1;
        // On a GPU backend the clock runs ahead of the device between loss reads (the steps are
        // queued), so a budgeted unit may train a few steps past its budget there.
        const last = over(steps);
        // Reading the loss forces a GPU sync, so only every few steps (and the last one).
        if (step % LOSS_EVERY === LOSS_EVERY - 1 || last) {
          loss = (await cost.data())[0];
          lossSum += loss;
          lossCount++;
          if (!last) await save(steps);
        }
        // Every step, not only when the loss is read: on wasm and cpu a step runs synchronously,
        // and the coordinator recomputes spot-checked CNN units here too. Five CNN steps back
        // to back held its event loop for seconds on a loaded machine (three checks per round
        // while tabs are on probation), and HTTP keep-alive polls met ECONNRESET.
        await yieldToEventLoop();
        cost.dispose();
        onStep(steps, last ? steps : expectedSteps(steps, performance.now() - started, unit), loss);
        if (last) break;
      }
      const trained = await getFlatWeights(model);
      const delta = new Float32Array(trained.length);
      for (let i = 0; i < delta.length; i++) delta[i] = trained[i] - base[i];
      return {
        delta,
        numSamples: steps * unit.batchSize,
        meanLoss: lossCount ? lossSum / lossCount : Number.NaN,
        trainMs: performance.now() - started,
      };
    } finally {
      tf.dispose(x ? [x, y] : [y]);
      optimizer.dispose();
    }
  }

  private modelBackend = '';
  dispose(): void {
    this.model?.dispose();
    this.model = null;
    this.rows = undefined;
  }
}

/** The steps a unit will have trained when it ends, for progress: localSteps, or as many as its budget allows at the pace so far. */
function expectedSteps(done: number, elapsedMs: number, unit: WorkUnit): number {
  if (unit.trainBudgetMs === undefined || !(elapsedMs > 0)) return unit.localSteps;
  return Math.min(unit.localSteps, Math.max(done, Math.round((done * unit.trainBudgetMs) / elapsedMs)));
}

/** Rows `picks` of `values` (rows of `rowSize`), in that order: tf.gather along the first axis. */
export function gatherRows(values: Float32Array, rowSize: number, picks: ArrayLike<number>): Float32Array {
  const out = new Float32Array(picks.length * rowSize);
  for (let i = 0; i < picks.length; i++) {
    const at = picks[i] * rowSize;
    out.set(values.subarray(at, at + rowSize), i * rowSize);
  }
  return out;
}
