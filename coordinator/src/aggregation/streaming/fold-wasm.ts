/**
 * The mean's inner loop as a WebAssembly SIMD module, hand-assembled here because the tree has
 * no WebAssembly toolchain (and the loop is a dozen instructions). It exports foldK for K = 1 to
 * MAX_BATCH:
 *
 *   foldK(acc: i32, count: i32, d1: i32, w1: f64, ..., dK: i32, wK: f64)
 *     acc[i] = (((acc[i] + w1 * f64(d1[i])) + w2 * f64(d2[i])) + ...) + wK * f64(dK[i])
 *
 * for i < count: K updates folded in one pass over the accumulator, so the float64 sum is read
 * and written once per batch and not once per update (the sum is twice the bytes of an update:
 * folding one at a time moved 5 bytes for every update byte). Per coordinate the operations are
 * the same, in the same order, as K folds one after the other, so the sum is bit-identical.
 *
 * acc is float64, the deltas float32, all byte offsets into a shared memory the module imports,
 * so every worker of the pool folds into the same accumulator (each its own range). count must
 * be a multiple of 8 (eight values a step); the caller folds the last few itself. Each lane is one
 * IEEE multiply then one add, exactly what `acc[i] += w * delta[i]` does in JavaScript (neither
 * fuses them), so the module and the scalar fallback give bit-identical sums.
 */

/** The most updates one call folds (foldK for K up to this). */
export const MAX_BATCH = 8;

const SIMD = 0xfd;
const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Shl: 0x74,
} as const;
// SIMD opcodes (after the 0xfd prefix, LEB128-encoded).
const simd = {
  load: [SIMD, 0x00],
  store: [SIMD, 0x0b],
  f64x2Splat: [SIMD, 0x14],
  load64Zero: [SIMD, 0x5d],
  promoteLow: [SIMD, 0x5f],
  f64x2Add: [SIMD, 0xf0, 0x01],
  f64x2Mul: [SIMD, 0xf2, 0x01],
} as const;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const str = (s: string) => [...leb(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
/** Signed LEB128, as i32.const takes (64 would read as negative in one byte). */
function leb128s(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

/** The body of foldK: params acc, count, then (delta, w) K times; locals end, then K splats. */
function foldBody(K: number): number[] {
  const [ACC, COUNT] = [0, 1];
  const D = (j: number) => 2 + 2 * j;
  const W = (j: number) => 3 + 2 * j;
  const END = 2 + 2 * K;
  const WV = (j: number) => 3 + 2 * K + j;
  const deltas = Array.from({ length: K }, (_, j) => j);
  // acc[2k..2k+1] = acc + w1 * d1 + ... : one 16-byte accumulator step, the deltas in order.
  // In each memarg, 3 is the alignment hint (8 bytes; unaligned access is allowed), then the offset.
  const lane = (k: number) => [
    ...[op.localGet, ACC],
    ...[op.localGet, ACC, ...simd.load, 3, ...leb(16 * k)],
    ...deltas.flatMap((j) => [
      ...[op.localGet, D(j), ...simd.load64Zero, 3, ...leb(8 * k), ...simd.promoteLow],
      ...[op.localGet, WV(j), ...simd.f64x2Mul, ...simd.f64x2Add],
    ]),
    ...[...simd.store, 3, ...leb(16 * k)],
  ];
  // Four lanes (8 values) an iteration, addressed by memarg offsets: the loop's own bookkeeping
  // otherwise costs as much as the arithmetic.
  return [
    ...[2, 1, 0x7f, K, 0x7b], // locals: one i32, K v128
    ...deltas.flatMap((j) => [op.localGet, W(j), ...simd.f64x2Splat, op.localSet, WV(j)]),
    ...[op.localGet, ACC, op.localGet, COUNT, op.i32Const, 3, op.i32Shl, op.i32Add, op.localSet, END],
    ...[op.block, 0x40, op.loop, 0x40],
    ...[op.localGet, ACC, op.localGet, END, op.i32GeU, op.brIf, 1],
    ...lane(0),
    ...lane(1),
    ...lane(2),
    ...lane(3),
    ...[op.localGet, ACC, op.i32Const, ...leb128s(64), op.i32Add, op.localSet, ACC],
    ...deltas.flatMap((j) => [op.localGet, D(j), op.i32Const, ...leb128s(32), op.i32Add, op.localSet, D(j)]),
    ...[op.br, 0, op.end, op.end, op.end],
  ];
}

const batches = Array.from({ length: MAX_BATCH }, (_, k) => k + 1);

/** The module's bytes for a shared memory of at most `maxPages` 64 KiB pages. */
export function foldModuleBytes(maxPages: number): Uint8Array<ArrayBuffer> {
  // Type K-1: (i32, i32, (i32, f64) x K) -> (); function K-1 has type K-1, exported as foldK.
  const types = batches.map((K) => [
    0x60,
    ...leb(2 + 2 * K),
    0x7f,
    0x7f,
    ...batches.slice(0, K).flatMap(() => [0x7f, 0x7c]),
    0,
  ]);
  const bodies = batches.map((K) => {
    const body = foldBody(K);
    return [...leb(body.length), ...body];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [...leb(MAX_BATCH), ...types.flat()]),
    // Import env.memory: shared (flag 3: shared with a maximum), from 1 page.
    ...section(2, [1, ...str('env'), ...str('memory'), 0x02, 0x03, ...leb(1), ...leb(maxPages)]),
    ...section(3, [...leb(MAX_BATCH), ...batches.map((K) => K - 1)]),
    ...section(7, [...leb(MAX_BATCH), ...batches.flatMap((K) => [...str(`fold${K}`), 0x00, K - 1])]),
    ...section(10, [...leb(MAX_BATCH), ...bodies.flat()]),
  ]);
}

/** Pages of 64 KiB holding `bytes`. */
export const pagesFor = (bytes: number) => Math.max(1, Math.ceil(bytes / 65536));
