/**
 * `loadModel(name, options)`: the SDK's entry point, and the live model it returns. The model
 * answers predict/classify on the version its alias gives this client, hears promotions over
 * socket.io and swaps to the new version without a reload (keeping the one it has when the new
 * one fails: unreachable, tampered, or a different architecture), and reports telemetry.
 *
 * Inputs are taken in the dataset's own units (raw 0-255 pixels, raw feature values): the
 * version's normalization from model.json is applied here, with the same function training
 * uses, and regression outputs are mapped back to the targets' units. A model.json without
 * normalization (older exports) gets its inputs as given.
 */

import type {
  InferenceClientEvents,
  InferenceServerEvents,
  Normalization,
  ResolvedVersion,
  TaskSpec,
} from '@gridtab/shared';
import { Endpoints } from '@gridtab/shared/endpoints';
import { denormalizeTargets, normalizeInputs } from '@gridtab/shared/tf';
import * as tf from '@tensorflow/tfjs';
import type { Socket } from 'socket.io-client';
import { availableBackends, type BackendPreference, startBackend, tryBackend } from './backend.ts';
import { InferenceError } from './errors.ts';
import { type LoadContext, type Loaded, loadVersion, resolveAlias, type VersionInfo } from './loader.ts';
import { defaultCache, type ModelCache } from './store.ts';
import { TelemetryBuffer } from './telemetry.ts';

export interface LoadOptions {
  /**
   * Coordinator URL; defaults to the page's origin. Several (a list, or comma-separated) for
   * coordinators sharing one store: the SDK moves to the next when its own cannot be reached.
   */
  coordinator?: string | string[];
  /** Alias to follow (default 'production'); ignored when `version` is given. */
  alias?: string;
  /** A fixed version id: no alias, no live updates. */
  version?: string;
  /** 'auto' (default): WebGPU, then WebGL, WebAssembly, CPU; 'fastest' measures this model on each. */
  backend?: BackendPreference;
  /** Follow promotions over socket.io (default true). */
  live?: boolean;
  /** Report latency, errors and input/output statistics (default true). */
  telemetry?: boolean;
  reportIntervalMs?: number;
  cache?: ModelCache;
  fetch?: typeof fetch;
}

export type ModelInput = tf.Tensor | Float32Array | Uint8Array | number[];
export type ImageInput =
  | tf.Tensor3D
  | ImageData
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas;

export interface Classification {
  classIndex: number;
  label: string;
  confidence: number;
  probabilities: Float32Array;
  versionId: string;
}

/** One sample's outputs by name: class probabilities, or target values in the targets' units. */
export type NamedPrediction =
  | {
      kind: 'classification';
      label: string;
      classIndex: number;
      confidence: number;
      probabilities: Record<string, number>;
    }
  | { kind: 'regression'; values: Record<string, number> };

const INFERENCE_NAMESPACE = '/inference';
const CLIENT_KEY = 'clientKey';

interface Active extends Loaded {
  inflight: number;
  retired: boolean;
  /** Per-sample input shape and its element count, computed once per version (predict is hot). */
  shape: number[];
  size: number;
  task: TaskSpec;
  /** null: an older export, inputs used as given. */
  norm: Normalization | null;
}

function activate(loaded: Loaded): Active {
  const shape = loaded.model.inputs[0].shape.slice(1) as number[];
  const outputs = loaded.model.outputs[0].shape.at(-1) ?? 1;
  // Exports before datasets had a task were all classifiers (softmax outputs).
  const task = loaded.meta.task ?? { kind: 'classification', numClasses: outputs };
  return {
    ...loaded,
    inflight: 0,
    retired: false,
    shape,
    size: shape.reduce((a, b) => a * b, 1),
    task,
    norm: loaded.meta.normalization ?? null,
  };
}

export class GridTabModel {
  private readonly updateListeners = new Set<(v: VersionInfo) => void>();
  private readonly errorListeners = new Set<(e: InferenceError) => void>();
  private readonly telemetry = new TelemetryBuffer();
  private socket: Socket<InferenceServerEvents, InferenceClientEvents> | null = null;
  private reportTimer: ReturnType<typeof setInterval> | undefined;
  private swapSeq = 0;
  private disposed = false;
  private current: Active;

  constructor(
    loaded: Loaded,
    readonly backend: string,
    private readonly ctx: LoadContext,
    private readonly options: LoadOptions,
  ) {
    this.current = activate(loaded);
  }

  /** The version id in use now. */
  get version(): string {
    return this.current.info.versionId;
  }

  get versionInfo(): VersionInfo {
    return { ...this.current.info };
  }

  get labels(): string[] | null {
    return this.current.meta.labels;
  }

  /** Per-sample input shape, e.g. [28, 28, 1]. */
  get inputShape(): number[] {
    return [...this.current.shape];
  }

  /** Classification (with any number of classes) or regression, as the version's dataset says. */
  get task(): TaskSpec {
    return this.current.task;
  }

  /** The dataset version (`name@version`) the model was trained on; null for older exports. */
  get dataset(): string | null {
    return this.current.meta.dataset ?? null;
  }

  /** Regression: one name per output (target columns); null otherwise. */
  get targetNames(): string[] | null {
    return this.current.meta.targetNames ?? null;
  }

  /** The normalization applied to inputs (null: inputs are used as given). */
  get normalization(): Normalization | null {
    return this.current.norm;
  }

  /** Calls back after every swap to a new version; returns an unsubscribe function. */
  onUpdate(cb: (version: VersionInfo) => void): () => void {
    this.updateListeners.add(cb);
    return () => this.updateListeners.delete(cb);
  }

  /** Calls back when a promoted version was refused or could not load (the old one stays). */
  onError(cb: (error: InferenceError) => void): () => void {
    this.errorListeners.add(cb);
    return () => this.errorListeners.delete(cb);
  }

  /**
   * Outputs for a batch, row-major [batch, outputs]: class probabilities, or regression values in
   * the targets' units. Input is [batch, ...inputShape] or one sample, in the dataset's units.
   */
  async predict(input: ModelInput): Promise<Float32Array> {
    if (this.disposed) throw new InferenceError('DISPOSED', 'the model was disposed');
    const active = this.current;
    const started = performance.now();
    const { shape, size } = active;
    let raw: tf.Tensor;
    if (input instanceof tf.Tensor) {
      const sample = input.shape.length === shape.length ? input.shape : input.shape.slice(1);
      if (JSON.stringify(sample) !== JSON.stringify(shape)) {
        this.telemetry.recordError();
        throw new InferenceError(
          'INPUT_MISMATCH',
          `input shape ${JSON.stringify(input.shape)} does not fit [batch, ${shape}]`,
        );
      }
      raw = input.shape.length === shape.length ? input.expandDims(0) : input;
    } else {
      if (input.length === 0 || input.length % size !== 0) {
        this.telemetry.recordError();
        throw new InferenceError(
          'INPUT_MISMATCH',
          `${input.length} input values do not fill samples of ${size}`,
        );
      }
      const values = input instanceof Float32Array ? input : Float32Array.from(input);
      if (this.options.telemetry !== false && this.telemetry.sampleInput())
        this.telemetry.recordInput(values);
      raw = tf.tensor(values, [input.length / size, ...shape], 'float32');
    }
    const norm = active.norm;
    const x = norm ? tf.tidy(() => normalizeInputs(raw.toFloat(), norm)) : raw;
    active.inflight++;
    try {
      const y = tf.tidy(() => {
        const out = active.model.predict(x) as tf.Tensor;
        return active.task.kind === 'regression' && active.norm
          ? denormalizeTargets(out as tf.Tensor2D, active.norm)
          : out;
      });
      const out = (await y.data()) as Float32Array;
      const classes =
        active.task.kind === 'classification' && y.shape.length === 2 ? argmaxRows(out, y.shape[1]!) : [];
      y.dispose();
      if (this.options.telemetry !== false)
        this.telemetry.recordPrediction(performance.now() - started, classes);
      return out;
    } catch (e) {
      this.telemetry.recordError();
      throw e;
    } finally {
      if (x !== raw) x.dispose();
      if (raw !== input) raw.dispose();
      active.inflight--;
      if (active.retired && active.inflight === 0) active.model.dispose();
    }
  }

  /**
   * Outputs of a batch by name, one entry per sample: class probabilities with the most likely
   * class for classification, target values in the targets' units for regression.
   */
  async predictNamed(input: ModelInput): Promise<NamedPrediction[]> {
    const task = this.task;
    const names =
      task.kind === 'classification'
        ? Array.from({ length: task.numClasses }, (_, i) => this.labels?.[i] ?? String(i))
        : Array.from({ length: task.numTargets }, (_, i) => this.targetNames?.[i] ?? `target ${i}`);
    const out = await this.predict(input);
    const rows: NamedPrediction[] = [];
    for (let r = 0; r * names.length < out.length; r++) {
      const row = out.subarray(r * names.length, (r + 1) * names.length);
      const byName = Object.fromEntries(names.map((n, i) => [n, row[i]]));
      if (task.kind === 'regression') {
        rows.push({ kind: 'regression', values: byName });
        continue;
      }
      const classIndex = argmaxRows(row, row.length)[0];
      rows.push({
        kind: 'classification',
        label: names[classIndex],
        classIndex,
        confidence: row[classIndex],
        probabilities: byName,
      });
    }
    return rows;
  }

  /**
   * Classifies one image: resized to the model input, grey or RGB as it takes. Pixels stay in
   * 0-255 when the version carries its normalization (predict applies it); an older export
   * gets them scaled to [0, 1], which is what GridTab always trained images on.
   */
  async classify(image: ImageInput, options: { invert?: boolean } = {}): Promise<Classification> {
    const [h, w, c] = this.inputShape;
    const versionId = this.version;
    const top = this.current.norm ? 255 : 1;
    const x = tf.tidy(() => {
      const pixels =
        image instanceof tf.Tensor ? image : tf.browser.fromPixels(image as ImageData, c === 1 ? 1 : 3);
      let t = tf.image.resizeBilinear(pixels.toFloat() as tf.Tensor3D, [h, w]);
      if (pixels.shape[2] === 3 && c === 1) t = t.mean(2, true);
      if (top === 1) t = t.div(255);
      return options.invert ? tf.sub(top, t) : t;
    });
    try {
      if (this.options.telemetry !== false && this.telemetry.sampleInput())
        this.telemetry.recordInput(await x.data());
      const probabilities = await this.predict(x);
      const classIndex = argmaxRows(probabilities, probabilities.length)[0];
      return {
        classIndex,
        label: this.labels?.[classIndex] ?? String(classIndex),
        confidence: probabilities[classIndex],
        probabilities,
        versionId,
      };
    } finally {
      x.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.flushTelemetry();
    this.disposed = true;
    clearInterval(this.reportTimer);
    this.socket?.close();
    this.current.retired = true;
    if (this.current.inflight === 0) this.current.model.dispose();
  }

  /** Loads the version and swaps to it; on failure keeps the current one and tells onError. */
  async swapTo(info: VersionInfo): Promise<void> {
    if (this.disposed || info.versionId === this.version) return;
    const seq = ++this.swapSeq;
    try {
      const next = await loadVersion(this.ctx, info);
      const fits =
        JSON.stringify(next.model.inputs[0].shape) === JSON.stringify(this.current.model.inputs[0].shape) &&
        JSON.stringify(next.model.outputs[0].shape) === JSON.stringify(this.current.model.outputs[0].shape) &&
        (next.meta.task?.kind ?? 'classification') === this.current.task.kind;
      if (!fits || seq !== this.swapSeq || this.disposed) {
        next.model.dispose();
        if (!fits)
          throw new InferenceError(
            'INPUT_MISMATCH',
            `version ${info.versionId} has another input or output shape, or task; kept ${this.version}`,
          );
        return;
      }
      await warmUp(next.model);
      this.flushTelemetry();
      const old = this.current;
      this.current = activate(next);
      old.retired = true;
      if (old.inflight === 0) old.model.dispose();
      for (const cb of this.updateListeners) cb(this.versionInfo);
    } catch (e) {
      const err = e instanceof InferenceError ? e : new InferenceError('INTERNAL', (e as Error).message);
      for (const cb of this.errorListeners) cb(err);
    }
  }

  /** @internal Connects to the coordinator's /inference namespace. */
  async connect(): Promise<void> {
    const wantLive = this.options.live !== false && !this.options.version && this.current.info.alias;
    if (!wantLive && this.options.telemetry === false) return;
    // Loaded only when used, so an app with live updates and telemetry off bundles no socket.io.
    const { io } = await import('socket.io-client');
    const socket: Socket<InferenceServerEvents, InferenceClientEvents> = io(
      `${this.ctx.coordinator}${INFERENCE_NAMESPACE}`,
      {
        transports: ['websocket'],
        forceNew: true,
        ...((this.ctx.coordinators ?? 1) > 1 ? { reconnectionAttempts: 2 } : {}),
      },
    );
    this.socket = socket;
    // Reconnecting keeps failing: subscribe through the next coordinator instead.
    socket.io.on('reconnect_failed', () => {
      if (this.socket !== socket) return;
      socket.disconnect();
      clearInterval(this.reportTimer);
      this.ctx.nextCoordinator?.();
      void this.connect();
    });
    const toInfo = (r: ResolvedVersion): VersionInfo => ({
      model: r.name,
      alias: r.alias,
      versionId: r.versionId,
      hash: r.hash,
      canary: r.canary,
    });
    if (wantLive) {
      const { model, alias } = this.current.info;
      // Subscribing again on every (re)connect also catches a promotion missed while offline.
      socket.on('connect', async () => {
        const res = await socket.emitWithAck('model:subscribe', {
          name: model,
          alias: alias!,
          clientKey: this.ctx.clientKey,
        });
        if (res.ok) void this.swapTo(toInfo(res.data));
      });
      socket.on('model:promoted', (r) => void this.swapTo(toInfo(r)));
    }
    if (this.options.telemetry !== false)
      this.reportTimer = setInterval(() => this.flushTelemetry(), this.options.reportIntervalMs ?? 10_000);
  }

  private flushTelemetry(): void {
    const report = this.telemetry.take(this.current.info.model, this.version, this.backend);
    if (report && this.socket?.connected) this.socket.emit('inference:report', report);
  }
}

function argmaxRows(values: Float32Array, width: number): number[] {
  const out: number[] = [];
  for (let r = 0; r * width < values.length; r++) {
    let best = 0;
    for (let i = 1; i < width; i++) if (values[r * width + i] > values[r * width + best]) best = i;
    out.push(best);
  }
  return out;
}

/**
 * One prediction on zeros compiles the backend's programs, so the first real call is fast.
 * Read back asynchronously: a synchronous read blocks the page, and webgpu in a worker cannot.
 */
async function warmUp(model: tf.LayersModel): Promise<void> {
  const y = tf.tidy(() => model.predict(tf.zeros(model.inputs[0].shape.map((d) => d ?? 1))) as tf.Tensor);
  await y.data();
  y.dispose();
}

async function measure(model: tf.LayersModel): Promise<number> {
  await warmUp(model);
  const shape = model.inputs[0].shape.map((d) => d ?? 1);
  const x = tf.zeros(shape);
  const started = performance.now();
  for (let i = 0; i < 5; i++) await (model.predict(x) as tf.Tensor).data();
  x.dispose();
  return performance.now() - started;
}

async function clientKey(cache: ModelCache): Promise<string> {
  let key = await cache.getJson<string>(CLIENT_KEY);
  if (!key) {
    key = Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(36)).join('-'); // randomUUID needs a secure context
    await cache.putJson(CLIENT_KEY, key);
  }
  return key;
}

export async function loadModel(name: string, options: LoadOptions = {}): Promise<GridTabModel> {
  const endpoints = new Endpoints(options.coordinator ?? globalThis.location?.origin ?? '');
  const cache = options.cache ?? (await defaultCache());
  const ctx: LoadContext = {
    get coordinator() {
      return endpoints.current;
    },
    coordinators: endpoints.urls.length,
    nextCoordinator: () => endpoints.next(),
    cache,
    clientKey: await clientKey(cache),
    fetch: options.fetch ?? ((...args) => fetch(...args)),
  };
  const info: VersionInfo = options.version
    ? await versionInfo(ctx, name, options.version)
    : await resolveAlias(ctx, name, options.alias ?? 'production');

  let backend: string;
  if (options.backend === 'fastest') {
    let best: { name: string; ms: number } | null = null;
    for (const candidate of await availableBackends()) {
      await tryBackend(candidate);
      const trial = await loadVersion(ctx, info);
      const ms = await measure(trial.model);
      trial.model.dispose();
      if (!best || ms < best.ms) best = { name: candidate, ms };
    }
    if (!best) throw new InferenceError('INTERNAL', 'no TF.js backend could start');
    await tryBackend(best.name);
    backend = best.name;
  } else {
    backend = await startBackend(options.backend ?? 'auto');
  }
  const loaded = await loadVersion(ctx, info);
  await warmUp(loaded.model);
  const model = new GridTabModel(loaded, backend, ctx, options);
  await model.connect();
  return model;
}

/** A fixed version: its hash comes from the model's version list. */
async function versionInfo(ctx: LoadContext, name: string, versionId: string): Promise<VersionInfo> {
  const res = await ctx
    .fetch(`${ctx.coordinator}/api/models/${encodeURIComponent(name)}/versions`)
    .catch((e) => {
      throw new InferenceError('NETWORK', `model ${name}: ${(e as Error).message}`);
    });
  if (!res.ok) throw new InferenceError('NOT_FOUND', `model ${name} does not exist`);
  const v = ((await res.json()) as { id: string; hash: string }[]).find((x) => x.id === versionId);
  if (!v) throw new InferenceError('NOT_FOUND', `model ${name} has no version ${versionId}`);
  return { model: name, alias: null, versionId, hash: v.hash, canary: false };
}
