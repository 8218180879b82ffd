/**
 * int8 block codec ops for model updates. `quantizeInt8` turns a float32 tensor into the wire
 * buffer described in quantize.wgsl.ts; `dequantizeInt8` inverts it. On webgpu both are single
 * kernels; elsewhere TF.js ops compute scales and codes, and the packing into bytes (which needs
 * bitwise ops TF.js lacks) is done on typed arrays, which on cpu/wasm is where the data lives anyway.
 * `encodeInt8Host`/`decodeInt8Host` are the same codec on plain arrays, for the coordinator side.
 */

import type { Tensor, Tensor1D } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { webgpuFor } from '../registry.ts';
import { DEQUANTIZE_INT8, type Int8Layout, int8Layout, QUANTIZE_INT8 } from './quantize-kernel.ts';

export { type Int8Layout, int8Layout };

export interface Int8Blocks {
  /** int32 [layout.words]: scales (f32 bits), then packed codes. */
  packed: Tensor1D;
  layout: Int8Layout;
}

export const DEFAULT_BLOCK_SIZE = 256;

export function quantizeInt8(x: Tensor, blockSize = DEFAULT_BLOCK_SIZE): Int8Blocks {
  const layout = int8Layout(x.size, blockSize);
  if (webgpuFor(QUANTIZE_INT8, 4 * x.size)) {
    const flat = tf.reshape(x, [x.size]);
    const packed = tf.engine().runKernel(QUANTIZE_INT8, { x: flat }, { blockSize }) as Tensor1D;
    flat.dispose();
    return { packed, layout };
  }
  return quantizeInt8Tfjs(x, blockSize);
}

export function dequantizeInt8(q: Int8Blocks): Tensor1D {
  const { length, blockSize } = q.layout;
  if (webgpuFor(DEQUANTIZE_INT8, 4 * length)) {
    return tf.engine().runKernel(DEQUANTIZE_INT8, { packed: q.packed }, { length, blockSize }) as Tensor1D;
  }
  return dequantizeInt8Tfjs(q);
}

/** TF.js ops for scales and codes (padded to whole blocks), typed arrays for the byte packing. */
export function quantizeInt8Tfjs(x: Tensor, blockSize = DEFAULT_BLOCK_SIZE): Int8Blocks {
  const layout = int8Layout(x.size, blockSize);
  const [scales, codes] = tf.tidy(() => {
    const padded = tf.pad(tf.reshape(x, [x.size]), [[0, layout.blocks * blockSize - x.size]]);
    const blocks = tf.reshape(padded, [layout.blocks, blockSize]);
    const scale = tf.div(tf.max(tf.abs(blocks), 1, true), 127);
    const safe = tf.where(tf.greater(scale, 0), scale, tf.onesLike(scale));
    const q = tf.clipByValue(tf.round(tf.div(blocks, safe)), -127, 127);
    return [tf.reshape(scale, [layout.blocks]), tf.cast(tf.reshape(q, [-1]), 'int32')];
  });
  const words = packWords(scales.dataSync() as Float32Array, codes.dataSync() as Int32Array, layout);
  tf.dispose([scales, codes]);
  return { packed: tf.tensor1d(words, 'int32'), layout };
}

export function dequantizeInt8Tfjs(q: Int8Blocks): Tensor1D {
  return tf.tensor1d(decodeInt8Host(q.packed.dataSync() as Int32Array, q.layout));
}

function packWords(scales: Float32Array, codes: ArrayLike<number>, layout: Int8Layout): Int32Array {
  const words = new Int32Array(layout.words);
  new Float32Array(words.buffer, 0, layout.blocks).set(scales);
  const bytes = new Int8Array(words.buffer, layout.blocks * 4, layout.length);
  for (let i = 0; i < layout.length; i++) bytes[i] = codes[i];
  return words;
}

/** Round half to even, as WGSL's round() and TF.js's tf.round do. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The codec on plain arrays, in float32 arithmetic like the kernel. */
export function encodeInt8Host(x: Float32Array, blockSize = DEFAULT_BLOCK_SIZE): Int32Array {
  const layout = int8Layout(x.length, blockSize);
  const scales = new Float32Array(layout.blocks);
  const codes = new Int8Array(x.length);
  for (let b = 0; b < layout.blocks; b++) {
    const end = Math.min((b + 1) * blockSize, x.length);
    let m = 0;
    for (let i = b * blockSize; i < end; i++) m = Math.max(m, Math.abs(x[i]));
    const scale = Math.fround(m / 127);
    scales[b] = scale;
    if (scale === 0) continue;
    for (let i = b * blockSize; i < end; i++) {
      codes[i] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(x[i] / scale))));
    }
  }
  return packWords(scales, codes, layout);
}

export function decodeInt8Host(words: Int32Array, layout: Int8Layout): Float32Array {
  const scales = new Float32Array(words.buffer, words.byteOffset, layout.blocks);
  const codes = new Int8Array(words.buffer, words.byteOffset + layout.blocks * 4, layout.length);
  return Float32Array.from(codes, (q, i) => q * scales[Math.floor(i / layout.blockSize)]);
}
