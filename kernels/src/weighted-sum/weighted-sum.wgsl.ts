/**
 * WGSL for the weighted sum of N update buffers (template string: see dense.wgsl.ts for why).
 * Memory-bound: each thread reads one element (a vec4 when the length allows) of every buffer
 * once and writes one; the weights are uniforms, so changing them never recompiles.
 */
import { FLAT_WORKGROUP_INDEX } from '../gpu/program.ts';

export const SUM_THREADS = 64;

export function weightedSumSource(count: number): string {
  const terms = Array.from({ length: count }, (_, i) => `U${i}[i] * uniforms.w${i}`).join(' + ');
  return `
fn main() {
  let i = ${FLAT_WORKGROUP_INDEX} * ${SUM_THREADS} + i32(localIndex);
  if (i < uniforms.count) {
    result[i] = ${terms};
  }
}
`;
}
