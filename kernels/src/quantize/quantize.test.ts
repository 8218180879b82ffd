/**
 * The int8 codec suite on webgpu (our kernels, Dawn + SwiftShader here) and on TF.js's cpu backend,
 * plus the host codec's own round trip, which both sides of the wire rely on.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure, fill } from '../suite/check.ts';
import { runSuite } from '../suite/run.ts';
import { suiteFor } from '../suite/suites.ts';
import { onBackend, setUpWebGPU, tearDownWebGPU } from '../testing/backends.ts';
import { decodeInt8Host, encodeInt8Host, int8Layout, quantizeInt8, roundHalfEven } from './quantize.ts';

beforeAll(setUpWebGPU);
afterAll(tearDownWebGPU);

describe('int8 block codec suite', () => {
  for (const backend of ['webgpu', 'cpu']) {
    it(`passes every case on ${backend}`, async () => {
      const suite = suiteFor('quantize');
      const results = await onBackend(backend, () => runSuite([suite]));
      expect(results.filter((r) => !r.ok).map(describeFailure)).toEqual([]);
      expect(results.length).toBe(suite.cases.length * 4);
    });
  }

  it('runs our kernel on webgpu', async () => {
    await onBackend('webgpu', async () => {
      const x = tf.ones([10]);
      const profile = await tf.profile(() => quantizeInt8(x, 4).packed);
      expect(profile.kernelNames).toContain('GridTabQuantizeInt8');
      x.dispose();
    });
  });
});

describe('host int8 codec', () => {
  it('rounds half to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven)).toEqual([
      0, 2, 2, -0, -2, -2, 2, -3,
    ]);
  });

  it('round-trips within half a step and packs little-endian', () => {
    const x = fill('random', 1001, 3);
    const layout = int8Layout(x.length, 64);
    const words = encodeInt8Host(x, 64);
    expect(words.length).toBe(layout.words);
    const back = decodeInt8Host(words, layout);
    const scales = new Float32Array(words.buffer, 0, layout.blocks);
    x.forEach((v, i) => {
      expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(scales[Math.floor(i / 64)] * 0.5001);
    });
    // The largest |x| of a block maps to +-127 exactly.
    const codes = new Int8Array(words.buffer, layout.blocks * 4, x.length);
    expect(Math.max(...Array.from(codes.subarray(0, 64), Math.abs))).toBe(127);
  });

  it('rejects block sizes that would split a packed word', () => {
    expect(() => int8Layout(10, 6)).toThrow(/multiple of 4/);
  });
});
