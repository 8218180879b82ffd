/**
 * The mean's inner loop as a WebAssembly SIMD module, hand-assembled here because the tree has
 * no WebAssembly toolchain (and the loop is a dozen instructions):
 *
 *   fold(acc: i32, delta: i32, count: i32, w: f64)   acc[i] += w * f64(delta[i]) for i < count
 *
 * acc is float64, delta float32, both byte offsets into a shared memory the module imports, so
 * every worker of the pool folds into the same accumulator (each its own range). count must be
 * a multiple of 8 (eight values a step); the caller folds the last few itself. Each lane is one IEEE
 * multiply then one add, exactly what `acc[i] += w * delta[i]` does in JavaScript (neither fuses
 * them), so the module and the scalar fallback give bit-identical sums.
 */

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

// params 0 acc, 1 delta, 2 count, 3 w; locals 4 w as f64x2, 5 end of delta.
const [ACC, DELTA, COUNT, W, WV, END] = [0, 1, 2, 3, 4, 5];
/** acc[k..k+1] += w * delta[k..k+1], k = 2 * lane: one 16-byte accumulator step. */
// In each memarg, 3 is the alignment hint (8 bytes; unaligned access is allowed), then the offset.
const lane = (k: number) => [
  ...[op.localGet, ACC],
  ...[op.localGet, ACC, ...simd.load, 3, ...leb(16 * k)],
  ...[op.localGet, DELTA, ...simd.load64Zero, 3, ...leb(8 * k), ...simd.promoteLow],
  ...[op.localGet, WV, ...simd.f64x2Mul, ...simd.f64x2Add],
  ...[...simd.store, 3, ...leb(16 * k)],
];
// Four lanes (8 values) an iteration, addressed by memarg offsets: the loop's own bookkeeping
// otherwise costs as much as the arithmetic.
const body = [
  ...[2, 1, 0x7b, 1, 0x7f], // locals: one v128, one i32
  ...[op.localGet, W, ...simd.f64x2Splat, op.localSet, WV],
  ...[op.localGet, DELTA, op.localGet, COUNT, op.i32Const, 2, op.i32Shl, op.i32Add, op.localSet, END],
  ...[op.block, 0x40, op.loop, 0x40],
  ...[op.localGet, DELTA, op.localGet, END, op.i32GeU, op.brIf, 1],
  ...lane(0),
  ...lane(1),
  ...lane(2),
  ...lane(3),
  ...[op.localGet, ACC, op.i32Const, ...leb128s(64), op.i32Add, op.localSet, ACC],
  ...[op.localGet, DELTA, op.i32Const, ...leb128s(32), op.i32Add, op.localSet, DELTA],
  ...[op.br, 0, op.end, op.end, op.end],
];

/** The module's bytes for a shared memory of at most `maxPages` 64 KiB pages. */
export function foldModuleBytes(maxPages: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7c, 0]),
    // Import env.memory: shared (flag 3: shared with a maximum), from 1 page.
    ...section(2, [1, ...str('env'), ...str('memory'), 0x02, 0x03, ...leb(1), ...leb(maxPages)]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str('fold'), 0x00, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** Pages of 64 KiB holding `bytes`. */
export const pagesFor = (bytes: number) => Math.max(1, Math.ceil(bytes / 65536));
