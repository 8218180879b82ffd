/**
 * Cases every Codec must pass. Round trips are checked through the error-feedback identity
 * `decoded + residual after = values + residual before`, which for a stateless codec (no
 * residual) is the plain round trip; `bound(v, blockMax)` is the codec's stated error for a
 * value `v` whose block's largest magnitude is `blockMax`.
 */
import { describe, expect, it } from 'vitest';
import { type Codec, CodecError, type CodecState } from './codec.ts';

export interface CodecCase {
  make: () => Codec;
  bound: (v: number, blockMax: number) => number;
}

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vector(n: number, scale: number, seed: number): Float32Array {
  const r = seeded(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

export function codecSuite({ make, bound }: CodecCase) {
  const roundTrip = async (values: Float32Array, state: CodecState = { residual: null }) => {
    const before = state?.residual?.slice() ?? null;
    const codec = make();
    const decoded = codec.decode(await codec.encode(values, state), values.length);
    expect(decoded).toBeInstanceOf(Float32Array);
    expect(decoded.length).toBe(values.length);
    // Block max over 256-value blocks (the largest block any codec here uses by default).
    const blockMax = (i: number) => {
      let m = 0;
      for (
        let j = Math.floor(i / 256) * 256;
        j < Math.min(values.length, (Math.floor(i / 256) + 1) * 256);
        j++
      )
        m = Math.max(m, Math.abs(values[j] + (before?.[j] ?? 0)));
      return m;
    };
    for (let i = 0; i < values.length; i++) {
      const want = values[i] + (before?.[i] ?? 0);
      const got = decoded[i] + (state.residual?.[i] ?? 0);
      const err = Math.abs(got - want);
      if (err > bound(want, blockMax(i)) + 1e-7 * Math.abs(want)) {
        throw new Error(
          `value ${i}: sent ${want}, got ${got} (error ${err}, bound ${bound(want, blockMax(i))})`,
        );
      }
    }
    return decoded;
  };

  describe(`Codec: ${make().name}`, () => {
    it('round-trips within its error bound, at odd lengths', async () => {
      for (const n of [1, 3, 255, 257, 1001]) await roundTrip(vector(n, 0.05, n));
    });

    it('round-trips zeros and an empty update', async () => {
      const zeros = await roundTrip(new Float32Array(513));
      expect(zeros.every((v) => v === 0)).toBe(true);
      expect((await roundTrip(new Float32Array(0))).length).toBe(0);
    });

    it('round-trips large and tiny magnitudes side by side', async () => {
      const v = vector(600, 1, 7);
      v[5] = 30_000;
      v[300] = -12_345.5;
      v[301] = 1e-6;
      await roundTrip(v);
    });

    it('keeps its error bound over successive units with one state', async () => {
      const state: CodecState = { residual: null };
      for (let u = 0; u < 3; u++) await roundTrip(vector(700, 0.01, 100 + u), state);
    });

    it('refuses truncated and padded payloads with a CodecError', async () => {
      const codec = make();
      const payload = await codec.encode(vector(300, 1, 3));
      for (const bad of [
        payload.subarray(0, payload.length - 1),
        payload.subarray(0, 3),
        new Uint8Array(0),
      ]) {
        expect(() => codec.decode(bad, 300)).toThrow(CodecError);
      }
      const padded = new Uint8Array(payload.length + 4);
      padded.set(payload);
      expect(() => codec.decode(padded, 300)).toThrow(CodecError);
    });

    it('says "length" when a well-formed payload has another number of values', async () => {
      const codec = make();
      const payload = await codec.encode(vector(200, 1, 4));
      try {
        codec.decode(payload, 201);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(CodecError);
        expect((e as CodecError).kind).toBe('length');
      }
    });

    it('refuses random bytes or reads them into the right number of values, never more', () => {
      const r = seeded(9);
      for (let t = 0; t < 50; t++) {
        const junk = Uint8Array.from({ length: Math.floor(r() * 64) }, () => Math.floor(r() * 256));
        try {
          expect(make().decode(junk, 8).length).toBe(8);
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
        }
      }
    });

    it('decodes from an unaligned view', async () => {
      const codec = make();
      const values = vector(64, 1, 5);
      const payload = await codec.encode(values);
      const shifted = new Uint8Array(payload.length + 1);
      shifted.set(payload, 1);
      const a = codec.decode(payload, 64);
      expect(Array.from(codec.decode(shifted.subarray(1), 64))).toEqual(Array.from(a));
      // What socket.io hands over: a Node Buffer at an odd offset of a shared pool.
      const pooled = Buffer.alloc(payload.length + 3);
      pooled.set(payload, 3);
      expect(Array.from(codec.decode(pooled.subarray(3), 64))).toEqual(Array.from(a));
    });
  });
}
