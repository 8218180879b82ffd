/**
 * Backend choice by measurement: each available TF.js backend trains a small dense model for a
 * fraction of a second and is scored in samples per second. Being fast is not enough: a backend
 * must also have every kernel the job's model needs for training (TF.js's wasm backend has no
 * Conv2DBackpropFilter, so it cannot train a CNN as shipped).
 */
import type { BackendName, BackendScore } from '@gridtab/shared';
import * as tf from '@tensorflow/tfjs';

export const CANDIDATES: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

const BENCH_BATCH = 64;

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Trains a 784-128-10 MLP (the demo model's shape) on random data for about `budgetMs`. */
async function measure(budgetMs: number): Promise<number> {
  const w1 = tf.variable(tf.randomNormal([784, 128], 0, 0.05));
  const w2 = tf.variable(tf.randomNormal([128, 10], 0, 0.05));
  const x = tf.randomUniform([BENCH_BATCH, 784]);
  const y = tf.oneHot(tf.randomUniform([BENCH_BATCH], 0, 10, 'int32'), 10).toFloat();
  const opt = tf.train.adam(0.001);
  const step = () =>
    opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.relu(tf.matMul(x, w1)), w2)) as tf.Scalar,
      true,
    );
  try {
    // Warm-up compiles shaders and allocates buffers; it is not counted.
    for (let i = 0; i < 2; i++) await step()!.data();
    let steps = 0;
    const started = performance.now();
    while (performance.now() - started < budgetMs || steps < 3) {
      const cost = step()!;
      steps++;
      if (steps % 4 === 0) await cost.data(); // sync now and then so queued GPU work is counted
      cost.dispose();
    }
    await tf.tensor1d([0]).data(); // flush
    return (steps * BENCH_BATCH) / ((performance.now() - started) / 1000);
  } finally {
    tf.dispose([w1, w2, x, y]);
    opt.dispose();
  }
}

/** Makes `name` TF.js's backend, or throws why it cannot start (within 15 s). */
async function startBackend(name: BackendName): Promise<void> {
  if (!(await withTimeout(tf.setBackend(name), 15_000, `starting ${name}`)))
    throw new Error('backend failed to initialise');
  await tf.ready();
}

const unavailable = (name: BackendName, e: unknown): BackendScore => ({
  name,
  available: false,
  samplesPerSec: 0,
  error: String((e as Error).message).slice(0, 300),
});

export async function benchmarkBackends(
  candidates: BackendName[] = CANDIDATES,
  budgetMs = 600,
): Promise<BackendScore[]> {
  const scores: BackendScore[] = [];
  for (const name of candidates) {
    if (!tf.findBackendFactory(name)) {
      scores.push({ name, available: false, samplesPerSec: 0, error: 'not registered in this build' });
      continue;
    }
    try {
      await startBackend(name);
      const samplesPerSec = await withTimeout(measure(budgetMs), 30_000, `benchmarking ${name}`);
      scores.push({ name, available: true, samplesPerSec: Math.round(samplesPerSec) });
    } catch (e) {
      scores.push(unavailable(name, e));
    }
  }
  return scores;
}

type GpuAdapterLike = {
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean; vendor?: string; architecture?: string; description?: string };
};

/**
 * Whether the platform offers a hardware WebGPU adapter. A fallback or software adapter
 * (SwiftShader, llvmpipe: what headless Chromium gets on a machine without a GPU) does not count:
 * there, WebAssembly trains faster.
 */
async function hardwareWebGPU(): Promise<boolean> {
  const adapter = await webgpuAdapterName();
  return adapter !== null && !adapter.software;
}

/** The platform's WebGPU adapter, named, and whether it is a fallback or software one; null if none. */
async function webgpuAdapterName(): Promise<{ name: string; software: boolean } | null> {
  const gpu = (
    globalThis.navigator as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } | undefined
  )?.gpu;
  if (!gpu) return null;
  try {
    const adapter = await withTimeout(gpu.requestAdapter(), 5_000, 'requesting a WebGPU adapter');
    if (!adapter) return null;
    const info = adapter.info ?? {};
    const name =
      [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
    const fallback = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
    return {
      name: fallback ? `${name}, a fallback adapter` : name,
      software: fallback || SOFTWARE.test(name),
    };
  } catch {
    return null;
  }
}

/**
 * Which of `candidates` (webgpu, webgl) run on a software renderer here, each with the reason
 * (the adapter's or renderer's own name). Outside a browser page (no navigator.gpu, no canvas)
 * none is known to.
 */
export async function softwareRenderers(
  candidates: readonly BackendName[],
): Promise<Partial<Record<BackendName, string>>> {
  const found: Partial<Record<BackendName, string>> = {};
  const why = (name: string) => `not timed: a software renderer (${name}); WebAssembly trains faster here`;
  if (candidates.includes('webgpu')) {
    const adapter = await webgpuAdapterName();
    if (adapter?.software) found.webgpu = why(adapter.name);
  }
  if (candidates.includes('webgl')) {
    const renderer = webglRenderer();
    if (renderer && SOFTWARE.test(renderer)) found.webgl = why(renderer);
  }
  return found;
}

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render driver/i;

/** The WebGL renderer's name (unmasked where the browser allows), or null outside a page. */
function webglRenderer(): string | null {
  try {
    const Canvas = (globalThis as { OffscreenCanvas?: new (w: number, h: number) => OffscreenCanvas })
      .OffscreenCanvas;
    if (!Canvas) return null;
    const gl = new Canvas(1, 1).getContext('webgl2') ?? new Canvas(1, 1).getContext('webgl');
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return name || null;
  } catch {
    return null;
  }
}

/**
 * A first choice without timing anything, so that a first visit trains at once (the start-up
 * benchmark took about 9 s on an idle 2-core machine, a minute on a loaded one): WebGPU on a
 * hardware adapter, WebAssembly otherwise, then the rest. The first one that starts is chosen;
 * the others are listed as available and not measured yet (0 samples/s): the job's own model is
 * timed on all of them after the first unit (UnitTraining.measure), which may switch backends
 * for the next unit, and a backend that does not start then is marked unavailable.
 */
export async function guessBackends(candidates: BackendName[] = CANDIDATES): Promise<BackendScore[]> {
  const order: BackendName[] = (await hardwareWebGPU())
    ? ['webgpu', 'webgl', 'wasm', 'cpu']
    : ['wasm', 'webgl', 'webgpu', 'cpu'];
  const ordered = [
    ...order.filter((n) => candidates.includes(n)),
    ...candidates.filter((n) => !order.includes(n)),
  ];
  const scores: BackendScore[] = [];
  let started = false;
  for (const name of ordered) {
    if (!tf.findBackendFactory(name)) {
      scores.push({ name, available: false, samplesPerSec: 0, error: 'not registered in this build' });
    } else if (started) {
      scores.push({ name, available: true, samplesPerSec: 0 });
    } else {
      try {
        await startBackend(name);
        scores.push({ name, available: true, samplesPerSec: 0 });
        started = true;
      } catch (e) {
        scores.push(unavailable(name, e));
      }
    }
  }
  return scores;
}

/** Kernels each layer class needs to train, beyond the element-wise ones every backend has. */
const TRAINING_KERNELS: Record<string, string[]> = {
  Dense: ['BatchMatMul'],
  Conv2D: ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'],
  MaxPooling2D: ['MaxPool', 'MaxPoolGrad'],
  AveragePooling2D: ['AvgPool', 'AvgPoolGrad'],
  BatchNormalization: ['FusedBatchNorm'],
};

function layerClasses(spec: Record<string, unknown>): string[] {
  const config = spec.config as { layers?: { class_name: string }[] } | undefined;
  return (config?.layers ?? []).map((l) => l.class_name);
}

/**
 * Whether the model has convolution or pooling layers (Conv2D, Conv2DTranspose, SeparableConv2D,
 * MaxPooling2D...), at any depth of the topology: those call the conv and pool-gradient kernels
 * that @gridtab/kernels puts in place of TF.js's on webgpu, which a tab verifies only for such a model.
 */
export function usesConvKernels(spec: Record<string, unknown>): boolean {
  return /"class_name":\s*"\w*(Conv|Pool)\w*"/.test(JSON.stringify(spec));
}

export function missingTrainingKernels(backend: BackendName, spec: Record<string, unknown>): string[] {
  const needed = new Set(layerClasses(spec).flatMap((c) => TRAINING_KERNELS[c] ?? []));
  return [...needed].filter((k) => !tf.getKernel(k, backend));
}

/**
 * A backend measured by a few steps on random data but not yet seen training a real unit counts
 * for this fraction of its score against one that was: the micro-benchmark flatters some
 * backends (WebGL on SwiftShader timed 2,000 samples/s on the MLP and trained its units at about
 * 120), so a tab leaves a backend it has watched train only for a clear promise of better.
 */
export const UNOBSERVED_DISCOUNT = 0.5;

/**
 * The fastest backend that can train this model (all kernels present). `observed` holds the
 * samples/s of real units trained here (by backend); when any is known, they replace the
 * measured scores and backends without one count at UNOBSERVED_DISCOUNT of theirs. Ties
 * (backends not measured yet, at 0) go to the earlier one in `scores`: guessBackends lists its
 * guess first.
 */
export function chooseBackend(
  scores: BackendScore[],
  spec?: Record<string, unknown>,
  observed: Partial<Record<BackendName, number>> = {},
): BackendName | null {
  const anyObserved = Object.keys(observed).length > 0;
  const worth = (s: BackendScore) =>
    observed[s.name] ?? (anyObserved ? s.samplesPerSec * UNOBSERVED_DISCOUNT : s.samplesPerSec);
  const usable = scores
    .filter((s) => s.available && (!spec || missingTrainingKernels(s.name, spec).length === 0))
    .sort((a, b) => worth(b) - worth(a));
  return usable[0]?.name ?? null;
}
