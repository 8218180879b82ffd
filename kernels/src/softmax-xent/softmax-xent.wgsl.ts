/**
 * WGSL for fused softmax cross-entropy (template string: see dense.wgsl.ts for why not `.wgsl`).
 * One 64-thread workgroup per row reads the row's logits and labels and writes, in one pass over
 * global memory for the output, both the gradient of the mean loss and the row's loss:
 *   result[0 .. rows*cols)           d(mean loss)/d logits = (softmax(z) * sum(y) - y) / rows
 *   result[rows*cols .. +rows)       loss_r = sum(y) * logsumexp(z) - sum(y * z)
 * Sums are taken relative to the row max, so logits of any magnitude stay finite.
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
    for (var j = tid; j < cols; j += ${ROW_THREADS}) { m = max(m, Logits[base + j]); }
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
  var sumY = 0.0;
  var sumYZ = 0.0;
  if (valid) {
    for (var j = tid; j < cols; j += ${ROW_THREADS}) {
      let z = Logits[base + j] - rowMax;
      let y = Labels[base + j];
      sumExp += exp(z);
      sumY += y;
      sumYZ += y * z;
    }
  }
  redA[tid] = sumExp;
  redB[tid] = sumY;
  redC[tid] = sumYZ;
  workgroupBarrier();
  for (var s = ${ROW_THREADS / 2}; s > 0; s = s / 2) {
    if (tid < s) {
      redA[tid] += redA[tid + s];
      redB[tid] += redB[tid + s];
      redC[tid] += redC[tid + s];
    }
    workgroupBarrier();
  }
  if (valid) {
    let total = redA[0];
    let ySum = redB[0];
    let invRows = 1.0 / f32(uniforms.rows);
    for (var j = tid; j < cols; j += ${ROW_THREADS}) {
      let p = exp(Logits[base + j] - rowMax) / total;
      result[base + j] = (p * ySum - Labels[base + j]) * invRows;
    }
    if (tid == 0) {
      result[uniforms.rows * cols + row] = ySum * log(total) - redC[0];
    }
  }
}
`;
}
