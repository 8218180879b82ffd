/**
 * WGSL for the "direct" convolution passes: no workgroup memory and no barriers, each thread owns
 * four output channels (one vec4) of one output element and walks the filter taps that touch it.
 * They serve calls whose GEMM would be thin (few channels: fashion-cnn's 8 and 16), where the
 * tiled GEMM of conv.wgsl.ts computes a 32- or 64-wide tile for 8 or 16 live columns, and a CPU
 * adapter (SwiftShader), where every workgroupBarrier switches between emulated invocations.
 * Channels are read as vec4, so these need the vec4 dimension to be a multiple of 4 (see
 * `directFits` in conv-kernel.ts); the other calls keep the GEMM.
 *
 *   forward  y[b, oy, ox, co4]  = act(sum_{ky, kx, ci} x[b, iy, ix, ci] W[ky, kx, ci, co4] + bias[co4])
 *            (x read one ci at a time: conv1 has inC = 1)
 *   dX       dx[b, iy, ix, ci4] = sum over the taps (ky, kx) whose output pixel
 *            (oy, ox) = ((iy + padTop - ky) / strideH, ...) divides exactly and lies in dY, of
 *            sum_{co4} dot(dy[b, oy, ox, co4], W[ky, kx, ci, co4]) for the four ci: the forward
 *            conv with the flipped filter at stride 1, without building the flipped filter
 *   dW       dw[ky, kx, ci, co4] = sum_{b, oy, ox} x[b, iy, ix, ci] dy[b, oy, ox, co4], split over
 *            runs of output rows (b, oy): slice z of `splits` writes a partial, conv.wgsl.ts's
 *            SPLIT_SUM_SOURCE adds them
 *
 * with iy = oy * strideH - padTop + ky (and likewise for x). Each tap loop breaks as soon as the
 * index leaves the input (it moves one way), so the padding costs no work.
 */
import type { ConvActivation } from './conv.wgsl.ts';

export const DIRECT_UNIFORMS =
  'batch : i32, inH : i32, inW : i32, inC : i32, outH : i32, outW : i32, outC : i32, ' +
  'fH : i32, fW : i32, strideH : i32, strideW : i32, padTop : i32, padLeft : i32, ' +
  'total : i32, rowsPerSlice : i32,';

/** Threads per workgroup (a flat dispatch). */
export const DIRECT_THREADS = 64;

const THREAD = `let idx = i32(workgroupId.y * numWorkgroups.x + workgroupId.x) * ${DIRECT_THREADS} + i32(localIndex);
  if (idx >= uniforms.total) { return; }`;

const ACTIVATIONS: Record<ConvActivation, string> = {
  linear: '',
  relu: 'acc = max(acc, vec4<f32>(0.0));',
  relu6: 'acc = clamp(acc, vec4<f32>(0.0), vec4<f32>(6.0));',
};

/** X scalar (any inC), W and the output vec4 along co; Bias vec4 when `bias`. */
export function directForwardSource(bias: boolean, activation: ConvActivation): string {
  return `
fn main() {
  ${THREAD}
  let co4 = uniforms.outC / 4;
  let c = idx % co4;
  let pixel = idx / co4;
  let ox = pixel % uniforms.outW;
  let rest = pixel / uniforms.outW;
  let oy = rest % uniforms.outH;
  let b = rest / uniforms.outH;
  let y0 = oy * uniforms.strideH - uniforms.padTop;
  let x0 = ox * uniforms.strideW - uniforms.padLeft;
  var acc = vec4<f32>(0.0);
  for (var ky = max(0, -y0); ky < min(uniforms.fH, uniforms.inH - y0); ky++) {
    let rowBase = (b * uniforms.inH + y0 + ky) * uniforms.inW;
    for (var kx = max(0, -x0); kx < min(uniforms.fW, uniforms.inW - x0); kx++) {
      let xBase = (rowBase + x0 + kx) * uniforms.inC;
      let wBase = (ky * uniforms.fW + kx) * uniforms.inC * co4 + c;
      for (var ci = 0; ci < uniforms.inC; ci++) {
        acc = fma(vec4<f32>(X[xBase + ci]), W[wBase + ci * co4], acc);
      }
    }
  }
  ${bias ? 'acc = acc + Bias[c];' : ''}
  ${ACTIVATIONS[activation]}
  result[idx] = acc;
}
`;
}

/** DY and W vec4 along co, the output vec4 along ci. */
export const DIRECT_INPUT_SOURCE = `
fn main() {
  ${THREAD}
  let ci4 = uniforms.inC / 4;
  let co4 = uniforms.outC / 4;
  let g = idx % ci4;
  let pixel = idx / ci4;
  let ix = pixel % uniforms.inW;
  let rest = pixel / uniforms.inW;
  let iy = rest % uniforms.inH;
  let b = rest / uniforms.inH;
  var acc = vec4<f32>(0.0);
  for (var ky = 0; ky < uniforms.fH; ky++) {
    let ty = iy + uniforms.padTop - ky;
    if (ty < 0) { break; }
    let oy = ty / uniforms.strideH;
    if (oy * uniforms.strideH != ty || oy >= uniforms.outH) { continue; }
    for (var kx = 0; kx < uniforms.fW; kx++) {
      let tx = ix + uniforms.padLeft - kx;
      if (tx < 0) { break; }
      let ox = tx / uniforms.strideW;
      if (ox * uniforms.strideW != tx || ox >= uniforms.outW) { continue; }
      let dyBase = ((b * uniforms.outH + oy) * uniforms.outW + ox) * co4;
      // W[ky, kx, ci, co] as vec4 along co: row (tap, ci) starts at (tap * inC + ci) * co4.
      let wBase = ((ky * uniforms.fW + kx) * uniforms.inC + g * 4) * co4;
      for (var c = 0; c < co4; c++) {
        let d = DY[dyBase + c];
        acc = acc + vec4<f32>(
          dot(d, W[wBase + c]),
          dot(d, W[wBase + co4 + c]),
          dot(d, W[wBase + 2 * co4 + c]),
          dot(d, W[wBase + 3 * co4 + c]));
      }
    }
  }
  result[idx] = acc;
}
`;

/**
 * X scalar, DY vec4 along co; thread idx = (slice, ky, kx, ci, co4), slice outermost, so the
 * output is [splits, fH * fW * inC * outC] and the sum kernel reads it flat.
 */
export const DIRECT_FILTER_SOURCE = `
fn main() {
  ${THREAD}
  let co4 = uniforms.outC / 4;
  let outputs = uniforms.fH * uniforms.fW * uniforms.inC * co4;
  let slice = idx / outputs;
  let o = idx % outputs;
  let c = o % co4;
  let rest = o / co4;
  let ci = rest % uniforms.inC;
  let tap = rest / uniforms.inC;
  let kx = tap % uniforms.fW;
  let ky = tap / uniforms.fW;
  let rows = uniforms.batch * uniforms.outH;
  let first = slice * uniforms.rowsPerSlice;
  let last = min(rows, first + uniforms.rowsPerSlice);
  // Output columns whose input column ix = ox * strideW - padLeft + kx lies in [0, inW).
  let xOff = kx - uniforms.padLeft;
  let oxLo = select(0, (-xOff + uniforms.strideW - 1) / uniforms.strideW, xOff < 0);
  let span = uniforms.inW - 1 - xOff;
  let oxHi = select(0, min(uniforms.outW, span / uniforms.strideW + 1), span >= 0);
  var acc = vec4<f32>(0.0);
  for (var r = first; r < last; r++) {
    let oy = r % uniforms.outH;
    let b = r / uniforms.outH;
    let iy = oy * uniforms.strideH - uniforms.padTop + ky;
    if (iy < 0 || iy >= uniforms.inH) { continue; }
    let xRow = (b * uniforms.inH + iy) * uniforms.inW;
    let dyRow = r * uniforms.outW;
    for (var ox = oxLo; ox < oxHi; ox++) {
      let xv = X[(xRow + ox * uniforms.strideW + xOff) * uniforms.inC + ci];
      acc = fma(vec4<f32>(xv), DY[(dyRow + ox) * co4 + c], acc);
    }
  }
  result[idx] = acc;
}
`;
