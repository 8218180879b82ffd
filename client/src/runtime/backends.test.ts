/**
 * Which models make a webgpu tab verify the conv and pooling kernels before training: any with
 * a convolution or pooling layer, also inside a nested model; a dense-only model never does.
 * And the first guess of a tab that knows nothing yet: which backend it starts on, untimed.
 */
import { MODEL_PRESETS } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { chooseBackend, guessBackends, usesConvKernels } from './backends.ts';

const spec = (m: unknown) => m as Record<string, unknown>;

describe('usesConvKernels', () => {
  it('is true for the CNN presets and false for the MLP', () => {
    expect(usesConvKernels(spec(MODEL_PRESETS['fashion-cnn']))).toBe(true);
    expect(usesConvKernels(spec(MODEL_PRESETS['fashion-cnn-small']))).toBe(true);
    expect(usesConvKernels(spec(MODEL_PRESETS['fashion-mlp']))).toBe(false);
  });

  it('finds a pooling layer inside a nested model', () => {
    const nested = {
      class_name: 'Sequential',
      config: {
        layers: [
          { class_name: 'Sequential', config: { layers: [{ class_name: 'MaxPooling2D', config: {} }] } },
          { class_name: 'Dense', config: { units: 10 } },
        ],
      },
    };
    expect(usesConvKernels(nested)).toBe(true);
    expect(usesConvKernels({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense' }] } })).toBe(
      false,
    );
  });
});

describe('guessBackends', () => {
  const withGpu = async <T>(adapter: object | null | undefined, fn: () => Promise<T>): Promise<T> => {
    const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    const gpu = adapter === undefined ? undefined : { requestAdapter: async () => adapter };
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    try {
      return await fn();
    } finally {
      if (had) Object.defineProperty(globalThis, 'navigator', had);
      else Reflect.deleteProperty(globalThis, 'navigator');
    }
  };

  it('starts WebAssembly first without a hardware GPU, measuring nothing', async () => {
    for (const adapter of [
      undefined,
      null,
      { info: { isFallbackAdapter: true } },
      { info: { vendor: 'google', architecture: 'swiftshader' } },
    ]) {
      const scores = await withGpu(adapter, () => guessBackends(['cpu', 'wasm']));
      expect(scores.map((s) => s.name)).toEqual(['wasm', 'cpu']);
      expect(scores.every((s) => s.available && s.samplesPerSec === 0)).toBe(true);
      expect(chooseBackend(scores)).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
    }
  });

  it('puts WebGPU first on a hardware adapter, and lists a backend this build lacks as unavailable', async () => {
    const scores = await withGpu({ info: { vendor: 'nvidia', architecture: 'ada' } }, () =>
      guessBackends(['cpu', 'wasm', 'webgpu']),
    );
    // No WebGPU backend is registered in this Node test: the guess falls through to WebAssembly.
    expect(scores.map((s) => s.name)).toEqual(['webgpu', 'wasm', 'cpu']);
    expect(scores[0]).toMatchObject({ available: false, error: 'not registered in this build' });
    expect(chooseBackend(scores)).toBe('wasm');
  });
});

describe('chooseBackend with units seen training', () => {
  const measured = [
    { name: 'wasm' as const, available: true, samplesPerSec: 6000 },
    { name: 'webgl' as const, available: true, samplesPerSec: 2000 },
    { name: 'cpu' as const, available: true, samplesPerSec: 1500 },
  ];

  it('follows the measured scores until a unit has trained', () => {
    expect(chooseBackend(measured)).toBe('wasm');
    expect(chooseBackend(measured, undefined, {})).toBe('wasm');
  });

  it('leaves a backend that trained slower than another timed', () => {
    // WebGL on SwiftShader: 2,000 samples/s on random data, about 120 on real units.
    expect(chooseBackend(measured, undefined, { webgl: 120 })).toBe('wasm');
    expect(chooseBackend(measured, undefined, { wasm: 800 })).toBe('webgl');
  });

  it('stays on an observed backend unless another timed clearly faster', () => {
    // 2,000 timed is worth 1,000 against 1,500 seen: stay; against 900 seen: try it.
    expect(chooseBackend(measured, undefined, { wasm: 1500 })).toBe('wasm');
    expect(chooseBackend(measured, undefined, { wasm: 900 })).toBe('webgl');
    // Once both trained units, what they trained at decides.
    expect(chooseBackend(measured, undefined, { wasm: 900, webgl: 120 })).toBe('wasm');
  });
});
