/**
 * WGSL for top-k selection by magnitude (template strings: see dense.wgsl.ts for why).
 * Exact selection without sorting: the bit pattern of |x| as u32 orders like |x| itself, so a
 * radix select finds the k-th largest magnitude T with two 65536-bin histograms (high 16 bits,
 * then the low 16 bits of the elements in the chosen high bin), and one compaction pass writes
 * the indices of everything above T plus just enough elements equal to T.
 */
import { FLAT_WORKGROUP_INDEX } from '../gpu/program.ts';

export const TOPK_THREADS = 64;
export const BINS = 65536;

const index = `${FLAT_WORKGROUP_INDEX} * ${TOPK_THREADS} + i32(localIndex)`;
const magnitudeBits = 'bitcast<u32>(abs(X[i]))';

/** `low`: histogram the low half of elements whose high half is `uniforms.prefix`. */
export function histogramSource(low: boolean): string {
  const bin = low ? 'bits & 0xffffu' : 'bits >> 16u';
  const keep = low ? '(bits >> 16u) == u32(uniforms.prefix)' : 'true';
  return `
fn main() {
  let i = ${index};
  if (i < uniforms.n) {
    let bits = ${magnitudeBits};
    if (${keep}) { atomicAdd(&result[${bin}], 1); }
  }
}
`;
}

/**
 * result = [count above T, count of ties taken, k indices]. Elements above T take slots from the
 * first counter (there are exactly `above` of them), ties from the second until `ties` are taken;
 * which tied elements win depends on scheduling, any of them is a correct top-k.
 */
export function selectSource(): string {
  return `
fn main() {
  let i = ${index};
  if (i < uniforms.n) {
    let bits = ${magnitudeBits};
    let t = bitcast<u32>(uniforms.threshold);
    if (bits > t) {
      let slot = atomicAdd(&result[0], 1);
      atomicStore(&result[2 + slot], i);
    } else if (bits == t) {
      let slot = atomicAdd(&result[1], 1);
      if (slot < uniforms.ties) { atomicStore(&result[2 + uniforms.above + slot], i); }
    }
  }
}
`;
}
