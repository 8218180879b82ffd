/**
 * WGSL for fused softmax cross-entropy (template string: see dense.wgsl.ts for why not `.wgsl`).
 * One 64-thread workgroup per row reads the row's logits and labels and writes, in one pass over
 * global memory for the output, both the gradient of the mean loss and the row's loss, with the
 * probabilities clipped to [uniforms.lo, uniforms.hi] as the layers loss clips them (see
 * softmax-xent.ts), kept_j = [lo <= p_j <= hi]:
 *   result[0 .. rows*cols)           d(mean loss)/d logits = (p * sum(y kept) - y kept) / rows
 *   result[rows*cols .. +rows)       loss_r = -sum_j y_j log clamp(p_j, lo, hi)
 * Sums are taken relative to the row max, so logits of any magnitude stay finite; an unclipped
 * log p_j is z_j - max - log(sum exp) rather than log of a rounded p_j, and a clipped one is the
 * bound's log from the host (uniforms.logLo, logHi): WGSL's log may be off by 2^-21 absolute near
 * 1, more than log(1 - 1e-7) itself. Inputs are read through f32(): TF.js declares an array by
 * its buffer's dtype, and a float32 tensor cast from int32 (tf.oneHot(...).toFloat()) shares the
 * int32 buffer.
 */
import { FLAT_WORKGROUP_INDEX } from '../gpu/program.ts';

export const ROW_THREADS = 64;

export function softmaxXentSource(): string {
  return `
var<workgroup> redA : array<f32, ${ROW_THREADS}>;
var<workgroup> redB : array<f32, ${ROW_THREADS}>;
var<workgroup> redC : array<f32, ${ROW_THREADS}>;

fn main() {
  let row = ${FLAT_WORKGROUP_INDEX};
  let tid = i32(localId.x);
  let cols = uniforms.cols;
  let valid = row < uniforms.rows;
  let base = row * cols;

  var m = -3.402823e38;
  if (valid) {
    for (var j = tid; j < cols; j += ${ROW_THREADS}) { m = max(m, f32(Logits[base + j])); }
  }
  redA[tid] = m;
  workgroupBarrier();
  for (var s = ${ROW_THREADS / 2}; s > 0; s = s / 2) {
    if (tid < s) { redA[tid] = max(redA[tid], redA[tid + s]); }
    workgroupBarrier();
  }
  let rowMax = redA[0];
  workgroupBarrier();

  var sumExp = 0.0;
  if (valid) {
    for (var j = tid; j < cols; j += ${ROW_THREADS}) { sumExp += exp(f32(Logits[base + j]) - rowMax); }
  }
  redA[tid] = sumExp;
  workgroupBarrier();
  for (var s = ${ROW_THREADS / 2}; s > 0; s = s / 2) {
    if (tid < s) { redA[tid] += redA[tid + s]; }
    workgroupBarrier();
  }
  let total = redA[0];
  let logTotal = log(total);

  // sum_j y_j kept_j and sum_j y_j log c_j, which need p_j, hence the total, first.
  var yKept = 0.0;
  var yLogC = 0.0;
  if (valid) {
    for (var j = tid; j < cols; j += ${ROW_THREADS}) {
      let z = f32(Logits[base + j]) - rowMax;
      let y = f32(Labels[base + j]);
      let p = exp(z) / total;
      let kept = p >= uniforms.lo && p <= uniforms.hi;
      yKept += select(0.0, y, kept);
      yLogC += y * select(select(uniforms.logLo, uniforms.logHi, p > uniforms.hi), z - logTotal, kept);
    }
  }
  redB[tid] = yKept;
  redC[tid] = yLogC;
  workgroupBarrier();
  for (var s = ${ROW_THREADS / 2}; s > 0; s = s / 2) {
    if (tid < s) {
      redB[tid] += redB[tid + s];
      redC[tid] += redC[tid + s];
    }
    workgroupBarrier();
  }
  if (valid) {
    let ySum = redB[0];
    let invRows = 1.0 / f32(uniforms.rows);
    for (var j = tid; j < cols; j += ${ROW_THREADS}) {
      // The same expression as above, so each entry's kept flag is the one its label was summed with.
      let p = exp(f32(Logits[base + j]) - rowMax) / total;
      let kept = p >= uniforms.lo && p <= uniforms.hi;
      result[base + j] = (p * ySum - select(0.0, f32(Labels[base + j]), kept)) * invRows;
    }
    if (tid == 0) {
      result[uniforms.rows * cols + row] = -redC[0];
    }
  }
}
`;
}
