/**
 * fp16: IEEE half precision, little-endian, no header; half the bytes of fp32 with a relative
 * error of at most 2^-11 (absolute 2^-25 below the normal range). Node 20 has no Float16Array,
 * so the conversion is done by hand with round-to-nearest-even, as hardware does.
 *
 * Finite values past fp16's range (65504) saturate instead of becoming Infinity: an honest but
 * large delta must not turn into a NON_FINITE refusal on the wire. NaN and Infinity stay what
 * they are, so validation still refuses them after decoding.
 */
import { aligned, type Codec, CodecError, checkLength } from './codec.ts';

const F16_MAX = 65504;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function toHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const v = Number.isFinite(value) ? Math.max(-F16_MAX, Math.min(F16_MAX, value)) : value;
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00; // Infinity (NaN handled above)
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7bff; // cannot happen after saturation; kept for safety
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit bit, round to even.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && (r & 1) === 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1) === 1)) r++; // may carry into the exponent: correct
  return sign | r;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export class Fp16Codec implements Codec {
  readonly name = 'fp16';

  async encode(values: Float32Array): Promise<Uint8Array> {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]);
    return new Uint8Array(out.buffer);
  }

  decode(payload: Uint8Array, expectedLength: number): Float32Array {
    if (payload.byteLength % 2 !== 0) {
      throw new CodecError('malformed', `fp16 update has ${payload.byteLength} bytes, an odd number`);
    }
    checkLength('fp16', payload.byteLength / 2, expectedLength);
    const bytes = aligned(payload, 2);
    const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, expectedLength);
    const out = new Float32Array(expectedLength);
    for (let i = 0; i < expectedLength; i++) out[i] = fromHalf(halves[i]);
    return out;
  }
}
