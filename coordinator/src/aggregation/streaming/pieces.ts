/**
 * Copies of model-sized arrays on the event loop, a piece at a time with a yield between
 * pieces, so that a close never holds the loop for the whole model. Most of such a copy's time is
 * not the copy: it is the kernel faulting in and zeroing the fresh destination's pages (about
 * 1 ms a MiB on a busy machine, measured: a 40 MB result copied in one piece stalled the loop
 * for 100-200 ms at load 30), so the pieces are small.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** Values a piece (1 MiB of float32). */
export const PIECE = 1 << 18;

/** to.set(from, 0) a piece at a time; resolves when done. */
export async function copyInPieces(from: Float32Array, to: Float32Array, piece = PIECE): Promise<void> {
  for (let i = 0; i < from.length; i += piece) {
    if (i > 0) await yieldToLoop();
    to.set(from.subarray(i, i + piece), i);
  }
}

/**
 * A new, unshared copy of `from` (a shared array's slice() is an element-by-element copy, ten
 * times slower than set() into a plain array).
 */
export async function unsharedCopy(from: Float32Array): Promise<Float32Array> {
  const out = new Float32Array(from.length);
  await copyInPieces(from, out);
  return out;
}
