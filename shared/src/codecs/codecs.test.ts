/** Every codec through the shared suite, then what is particular to each. */
import { describe, expect, it } from 'vitest';
import { codecSuite } from './codec.case.ts';
import { CodecError, type CodecState } from './codec.ts';
import { Fp16Codec, fromHalf, toHalf } from './fp16.ts';
import { Fp32Codec } from './fp32.ts';
import { codecFor, codecSpecSchema } from './index.ts';
import { Int8Codec } from './int8.ts';
import { TopKCodec } from './topk.ts';

codecSuite({ make: () => new Fp32Codec(), bound: () => 0 });
codecSuite({ make: () => new Fp16Codec(), bound: (v) => Math.max(Math.abs(v) * 2 ** -11, 2 ** -25) });
// Half a scale step, the scale being the block max / 127; a little slack for float32 rounding.
codecSuite({ make: () => new Int8Codec(256), bound: (_v, m) => (m / 127) * 0.5001 });
codecSuite({ make: () => new Int8Codec(4), bound: (_v, m) => (m / 127) * 0.5001 });
// With error feedback nothing is lost: what is not sent waits in the residual.
codecSuite({ make: () => new TopKCodec(0.05), bound: () => 0 });
codecSuite({ make: () => new TopKCodec(1), bound: () => 0 });

describe('fp16', () => {
  it('rounds to nearest even and saturates finite values past its range', () => {
    expect(fromHalf(toHalf(1))).toBe(1);
    expect(fromHalf(toHalf(65504))).toBe(65504);
    expect(fromHalf(toHalf(1e9))).toBe(65504);
    expect(fromHalf(toHalf(-1e9))).toBe(-65504);
    expect(fromHalf(toHalf(2 ** -24))).toBe(2 ** -24);
    expect(fromHalf(toHalf(1 + 2 ** -11))).toBe(1); // tie: to even
    expect(fromHalf(toHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
  });

  it('keeps NaN and Infinity, so validation still refuses them', async () => {
    const c = new Fp16Codec();
    const out = c.decode(await c.encode(Float32Array.of(Number.NaN, Number.POSITIVE_INFINITY, -0)), 3);
    expect(Number.isNaN(out[0])).toBe(true);
    expect(out[1]).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('int8', () => {
  it('is about 4x smaller than fp32 and refuses another block size', async () => {
    const values = new Float32Array(10_000).fill(0.5);
    const bytes = await new Int8Codec(256).encode(values);
    expect(bytes.byteLength).toBeLessThan((values.byteLength / 4) * 1.05);
    expect(() => new Int8Codec(128).decode(bytes, 10_000)).toThrow(/blocks of 256/);
  });
});

describe('top-k', () => {
  it('sends the largest entries first and the rest later, through the residual', async () => {
    const c = new TopKCodec(0.25);
    const state: CodecState = { residual: null };
    const first = c.decode(await c.encode(Float32Array.of(0.1, -5, 0.2, 3), state), 4);
    expect(Array.from(first)).toEqual([0, -5, 0, 0]);
    expect(Array.from(state.residual!)).toEqual([0.1, 0, 0.2, 3].map(Math.fround));
    const second = c.decode(await c.encode(new Float32Array(4), state), 4);
    expect(Array.from(second)).toEqual([0, 0, 0, 3]);
  });

  it('is refused with an index out of range or repeated', async () => {
    const c = new TopKCodec(0.5);
    const payload = await c.encode(Float32Array.of(1, 2, 3, 4));
    const view = new DataView(payload.buffer);
    const repeated = payload.slice();
    new DataView(repeated.buffer).setUint32(12, view.getUint32(8, true), true);
    expect(() => c.decode(repeated, 4)).toThrow(/out of order/);
    const outside = payload.slice();
    new DataView(outside.buffer).setUint32(12, 99, true);
    expect(() => c.decode(outside, 4)).toThrow(CodecError);
  });

  it('costs 8 bytes per sent entry plus a header', async () => {
    expect((await new TopKCodec(0.01).encode(new Float32Array(10_000))).byteLength).toBe(8 + 8 * 100);
  });
});

describe('codec specs', () => {
  it('default their parameters and refuse unknown codecs and bad parameters', () => {
    expect(codecSpecSchema.parse({ name: 'int8' })).toEqual({ name: 'int8', blockSize: 256 });
    expect(codecSpecSchema.parse({ name: 'topk' })).toEqual({ name: 'topk', fraction: 0.01 });
    expect(codecSpecSchema.safeParse({ name: 'zip' }).success).toBe(false);
    expect(codecSpecSchema.safeParse({ name: 'int8', blockSize: 6 }).success).toBe(false);
    expect(codecSpecSchema.safeParse({ name: 'topk', fraction: 0 }).success).toBe(false);
    expect(codecFor({ name: 'topk', fraction: 0.1 }).name).toBe('topk');
  });
});
