/**
 * Correctness suite of the int8 block codec, against the host codec in float32 arithmetic.
 * Tolerances: scales within 5e-7 relative (WGSL division may be off by 2.5 ulp); codes exact,
 * except where x/scale lies within 1e-4 of a .5 tie, where that division error may flip the
 * rounding by one; dequantize exact to 1e-7 relative; and the codec's contract, the round trip
 * within half a step: |decode(encode(x)) - x| <= 0.5001 * scale of x's block.
 */
import * as tf from '@tensorflow/tfjs';
import { type CheckResult, compare, fill, type SuiteCase } from '../suite/check.ts';
import { decodeInt8Host, dequantizeInt8, encodeInt8Host, int8Layout, quantizeInt8 } from './quantize.ts';

export interface QuantizeParams {
  n: number;
  blockSize: number;
  /** Lay exact .5 ties on the grid (block max 127, so scale 1) to pin round-half-even. */
  ties?: number;
}

function input(c: SuiteCase<QuantizeParams>): Float32Array {
  if (!c.params.ties) return fill(c.fill, c.params.n, 7, 2);
  return Float32Array.from({ length: c.params.n }, (_, i) =>
    i % c.params.blockSize === 0 ? 127 : (i % 9) - 4 + 0.5,
  );
}

export async function checkQuantize(c: SuiteCase<QuantizeParams>): Promise<CheckResult[]> {
  const { n, blockSize } = c.params;
  const layout = int8Layout(n, blockSize);
  const x = input(c);
  const xt = tf.tensor1d(x);
  try {
    const q = quantizeInt8(xt, blockSize);
    const deq = dequantizeInt8(q);
    const [packedData, deqData] = await Promise.all([q.packed.data(), deq.data()]);
    tf.dispose([q.packed, deq]);
    const got = packedData as Int32Array;
    const want = encodeInt8Host(x, blockSize);
    const gotScales = new Float32Array(got.buffer, got.byteOffset, layout.blocks);
    const wantScales = new Float32Array(want.buffer, 0, layout.blocks);
    const gotCodes = new Int8Array(got.buffer, got.byteOffset + layout.blocks * 4, n);
    const wantCodes = new Int8Array(want.buffer, layout.blocks * 4, n);
    const nearTie = Float64Array.from(x, (v, i) => {
      const t = Math.abs(v / wantScales[Math.floor(i / blockSize)]) % 1;
      return Math.abs(t - 0.5) < 1e-4 ? 1 : 0;
    });
    const blockScale = Float64Array.from(x, (_, i) => gotScales[Math.floor(i / blockSize)]);
    const hostDecoded = decodeInt8Host(got, layout);
    return [
      compare(c.op, c.name, 'scales', gotScales, wantScales, { atol: 0, rtol: 5e-7 }),
      compare(c.op, c.name, 'codes', gotCodes, wantCodes, { atol: 0.5, rtol: 1, magnitude: nearTie }),
      compare(c.op, c.name, 'dequantize', deqData, hostDecoded, { atol: 1e-30, rtol: 1e-7 }),
      compare(c.op, c.name, 'round-trip', deqData, x, { atol: 1e-30, rtol: 0.5001, magnitude: blockScale }),
    ];
  } finally {
    xt.dispose();
  }
}
