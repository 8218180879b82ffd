/**
 * WGSL for the int8 block codec (template strings: see dense.wgsl.ts for why not `.wgsl`).
 *
 * Wire layout, one int32 buffer: [nBlocks scales as f32 bits | ceil(n/4) words of 4 int8 codes,
 * little-endian]. Block b's codes start at word nBlocks + b * blockSize / 4 (blockSize % 4 == 0),
 * so the buffer can be sent as-is and decoded by plain typed-array views on any side.
 * code = clamp(round_half_even(x / scale), -127, 127), scale = max|x| over the block / 127.
 */
import { FLAT_WORKGROUP_INDEX } from '../gpu/program.ts';

export const BLOCK_THREADS = 64;

/** One 64-thread workgroup per block: a max-|x| reduction, then each thread packs whole words. */
export function quantizeSource(): string {
  return `
var<workgroup> red : array<f32, ${BLOCK_THREADS}>;

fn main() {
  let block = ${FLAT_WORKGROUP_INDEX};
  let tid = i32(localId.x);
  let valid = block < uniforms.nBlocks;
  let start = block * uniforms.blockSize;
  let end = min(start + uniforms.blockSize, uniforms.n);
  var m = 0.0;
  if (valid) {
    for (var i = start + tid; i < end; i += ${BLOCK_THREADS}) { m = max(m, abs(X[i])); }
  }
  red[tid] = m;
  workgroupBarrier();
  if (tid == 0) {
    var all = 0.0;
    for (var t = 0; t < ${BLOCK_THREADS}; t++) { all = max(all, red[t]); }
    red[0] = all;
  }
  workgroupBarrier();
  if (valid) {
    let scale = red[0] / 127.0;
    if (tid == 0) { result[block] = bitcast<i32>(scale); }
    let words = (end - start + 3) / 4;
    for (var w = tid; w < words; w += ${BLOCK_THREADS}) {
      var packed = 0u;
      for (var j = 0; j < 4; j++) {
        let i = start + w * 4 + j;
        var q = 0;
        if (i < end && scale > 0.0) { q = i32(clamp(round(X[i] / scale), -127.0, 127.0)); }
        packed = packed | ((bitcast<u32>(q) & 0xffu) << u32(8 * j));
      }
      result[uniforms.nBlocks + start / 4 + w] = bitcast<i32>(packed);
    }
  }
}
`;
}

/**
 * One thread per packed word: one load of the word and of its block's scale serve four outputs
 * (blockSize % 4 == 0, so a word never straddles blocks). extractBits on i32 sign-extends.
 */
export function dequantizeSource(): string {
  return `
fn main() {
  let w = ${FLAT_WORKGROUP_INDEX} * ${BLOCK_THREADS} + i32(localIndex);
  let first = w * 4;
  if (first < uniforms.n) {
    let scale = bitcast<f32>(Packed[first / uniforms.blockSize]);
    let word = Packed[uniforms.nBlocks + w];
    for (var j = 0; j < 4; j++) {
      if (first + j < uniforms.n) {
        result[first + j] = f32(extractBits(word, u32(8 * j), 8u)) * scale;
      }
    }
  }
}
`;
}
