/**
 * Backend choice by the job's model: real training steps of a CNN on TF.js's wasm (with
 * GridTab's conv gradients) and cpu backends, "cannot train" with the missing kernel named, and
 * scores kept per architecture so a second measurement (another tab of the origin) reads them.
 */
import { registerWasmConvKernels, unregisterWasmConvKernels } from '@gridtab/kernels/wasm-conv';
import { MODEL_PRESETS } from '@gridtab/shared';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { softwareRenderers } from './backends.ts';
import { MemoryCache } from './cache.ts';
import { architectureKey, ModelScores, measureModel } from './model-bench.ts';

const cnn = { model: MODEL_PRESETS['fashion-cnn-small'], batchSize: 8, data: { inputShape: [28, 28, 1] } };

beforeAll(async () => {
  registerWasmConvKernels();
  await tf.setBackend('wasm');
});
afterAll(() => registerWasmConvKernels());

describe('model benchmark', () => {
  it('times the job model on each backend that can train it and restores the active backend', async () => {
    const scores = await measureModel(cnn, ['wasm', 'cpu'], 1);
    expect(scores.map((s) => [s.name, s.available])).toEqual([
      ['wasm', true],
      ['cpu', true],
    ]);
    for (const s of scores) expect(s.samplesPerSec).toBeGreaterThan(0);
    expect(tf.getBackend()).toBe('wasm');
  }, 120_000);

  it('reports a backend without a training kernel as cannot train, naming the kernel', async () => {
    unregisterWasmConvKernels();
    try {
      const [wasm] = await measureModel(cnn, ['wasm'], 1);
      expect(wasm).toMatchObject({ name: 'wasm', available: false, samplesPerSec: 0 });
      expect(wasm.error).toContain('Conv2DBackpropFilter');
    } finally {
      registerWasmConvKernels();
    }
  });

  it('scores a backend it was told not to time as cannot train, with the reason, and times the rest', async () => {
    const reason = 'not timed: a software renderer (SwiftShader); WebAssembly trains faster here';
    const scores = await measureModel(cnn, ['wasm', 'cpu'], 1, { cpu: reason });
    expect(scores[0]).toMatchObject({ name: 'wasm', available: true });
    expect(scores[0].samplesPerSec).toBeGreaterThan(0);
    expect(scores[1]).toEqual({ name: 'cpu', available: false, samplesPerSec: 0, error: reason });
  }, 120_000);

  it('finds no software renderer outside a browser page', async () => {
    expect(await softwareRenderers(['webgpu', 'webgl', 'wasm'])).toEqual({});
  });

  it('keys scores by model and batch size', async () => {
    const a = await architectureKey(cnn.model, 8);
    expect(await architectureKey(cnn.model, 8)).toBe(a);
    expect(await architectureKey(cnn.model, 16)).not.toBe(a);
    expect(await architectureKey(MODEL_PRESETS['fashion-cnn'], 8)).not.toBe(a);
  });

  it('measures one tab at a time: another tab does not wait for the lock, and reads the scores once they exist', async () => {
    // Node 20 has no navigator.locks: a one-holder lock with the Web Locks request() shape.
    let holder: string | null = null;
    const asked: string[] = [];
    const locks = {
      async request<T>(
        name: string,
        _o: { ifAvailable: true },
        fn: (lock: unknown) => Promise<T>,
      ): Promise<T> {
        asked.push(name);
        if (holder !== null) return fn(null);
        holder = name;
        try {
          return await fn({ name });
        } finally {
          holder = null;
        }
      },
    };
    const cache = new MemoryCache();
    const tabA = new ModelScores(cache, locks);
    const tabB = new ModelScores(cache, locks);
    const key = await architectureKey(cnn.model, cnn.batchSize);
    expect(await tabA.get(key)).toBeNull();
    const measuring = tabA.measure(cnn, key, ['cpu']);
    // A holds the lock while it times: B is told so at once instead of waiting.
    expect(await tabB.measure(cnn, key, ['cpu'])).toBeNull();
    const a = await measuring;
    expect(a?.[0]?.name).toBe('cpu');
    // Asked again later, B finds A's scores in the shared cache and measures nothing.
    expect(await tabB.measure(cnn, key, ['cpu'])).toEqual(a);
    expect(asked).toEqual(['gridtab-model-bench', 'gridtab-model-bench', 'gridtab-model-bench']);
    expect(await tabB.get(key)).toEqual(a);
    await tabA.forget(key);
    expect(await tabB.get(key)).toBeNull();
  }, 120_000);

  it('puts the samples/s of real units in place of the timed ones, averaged, and forgets them with the scores', async () => {
    const cache = new MemoryCache();
    const scores = new ModelScores(cache);
    const key = await architectureKey(cnn.model, cnn.batchSize);
    await scores.observe(key, 'cpu', 100); // before any measurement: kept, not shown
    expect(await scores.get(key)).toBeNull();
    const timed = (await scores.measure(cnn, key, ['cpu', 'wasm']))!;
    const wasmTimed = timed.find((s) => s.name === 'wasm')!.samplesPerSec;
    await scores.observe(key, 'wasm', 40);
    await scores.observe(key, 'wasm', 20);
    await scores.observe(key, 'wasm', Number.NaN); // ignored
    expect(await scores.observations(key)).toEqual({ cpu: 100, wasm: 30 });
    const merged = (await scores.get(key))!;
    expect(await scores.read(key)).toEqual({ scores: merged, observed: { cpu: 100, wasm: 30 } });
    expect(merged.find((s) => s.name === 'wasm')!.samplesPerSec).toBe(30);
    expect(merged.find((s) => s.name === 'cpu')!.samplesPerSec).toBe(100);
    expect(wasmTimed).not.toBe(30);
    await scores.forget(key);
    expect(await scores.get(key)).toBeNull();
    expect(await scores.observations(key)).toEqual({});
  }, 120_000);
});
