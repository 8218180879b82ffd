/**
 * WGSL for the pooling gradients, NHWC: one thread per element of dX, gathering from every
 * pooling window that covers it (no atomics, no scatter). Windows covering input row iy are
 * those with oy * strideH - padTop <= iy <= oy * strideH - padTop + fH - 1.
 *
 *   MaxPoolGrad: dY of each covering window whose first strict maximum (row-major scan of its
 *     in-bounds pixels, starting from -inf) is this element: the rule of TF.js's cpu kernel,
 *     so ties and padding route the gradient to the same element. The window's argmax is
 *     recomputed here rather than stored by a first pass: for the usual 2x2 stride 2 pool that
 *     is 4 reads per element and one dispatch instead of two.
 *   AvgPoolGrad: sum of dY over covering windows, times 1 / (fH * fW), also TF.js's rule (it
 *     divides by the full window even where the window hangs over the padding).
 */

export type PoolKind = 'max' | 'avg';

export const POOL_UNIFORMS =
  'size : i32, inH : i32, inW : i32, channels : i32, outH : i32, outW : i32, ' +
  'fH : i32, fW : i32, strideH : i32, strideW : i32, padTop : i32, padLeft : i32, scale : f32,';

/** First output index whose window reaches input index `i` (windows start at o * stride - pad). */
const FIRST_WINDOW = `
fn firstWindow(i : i32, pad : i32, f : i32, stride : i32) -> i32 {
  let reach = i + pad - f + 1;
  return select(0, (reach + stride - 1) / stride, reach > 0);
}`;

/** True when (iy, ix) holds the first strict maximum of window (oy, ox) of channel c. */
const IS_ARGMAX = `
fn isArgmax(b : i32, oy : i32, ox : i32, c : i32, iy : i32, ix : i32) -> bool {
  let y0 = oy * uniforms.strideH - uniforms.padTop;
  let x0 = ox * uniforms.strideW - uniforms.padLeft;
  // TF.js starts from -inf (a pixel must be > -inf to be taken, so NaN and -inf never are);
  // WGSL has no -inf constant, and v >= -FLT_MAX is the same test.
  var best = -0x1.fffffep+127f;
  var found = false;
  var bestY = -1;
  var bestX = -1;
  for (var yy = max(y0, 0); yy < min(y0 + uniforms.fH, uniforms.inH); yy++) {
    for (var xx = max(x0, 0); xx < min(x0 + uniforms.fW, uniforms.inW); xx++) {
      let v = X[((b * uniforms.inH + yy) * uniforms.inW + xx) * uniforms.channels + c];
      if (v > best || (!found && v >= best)) { best = v; bestY = yy; bestX = xx; found = true; }
    }
  }
  return bestY == iy && bestX == ix;
}`;

/**
 * isArgmax for four channels at once (X read as vec4; channels % 4 == 0): the same scan with
 * per-component state, so one thread serves four channels with the window's index math done once.
 */
const IS_ARGMAX4 = `
fn isArgmax4(b : i32, oy : i32, ox : i32, c : i32, iy : i32, ix : i32) -> vec4<bool> {
  let y0 = oy * uniforms.strideH - uniforms.padTop;
  let x0 = ox * uniforms.strideW - uniforms.padLeft;
  var best = vec4<f32>(-0x1.fffffep+127f);
  var found = vec4<bool>(false);
  var bestY = vec4<i32>(-1);
  var bestX = vec4<i32>(-1);
  for (var yy = max(y0, 0); yy < min(y0 + uniforms.fH, uniforms.inH); yy++) {
    for (var xx = max(x0, 0); xx < min(x0 + uniforms.fW, uniforms.inW); xx++) {
      let v = X[((b * uniforms.inH + yy) * uniforms.inW + xx) * uniforms.channels + c];
      let take = (v > best) | (!found & (v >= best));
      best = select(best, v, take);
      bestY = select(bestY, vec4<i32>(yy), take);
      bestX = select(bestX, vec4<i32>(xx), take);
      found = found | take;
    }
  }
  return (bestY == vec4<i32>(iy)) & (bestX == vec4<i32>(ix));
}`;

/**
 * `vec4`: DY, X and dX read and written as vec4 along channels (channels % 4 == 0); then
 * `uniforms.channels` and `uniforms.size` count vec4s.
 */
export function poolGradSource(kind: PoolKind, vec4 = false): string {
  if (vec4) {
    const take4 =
      kind === 'max'
        ? 'sum = sum + select(vec4<f32>(0.0), g, isArgmax4(b, oy, ox, c, iy, ix));'
        : 'sum = sum + g;';
    return poolGradMain(kind === 'max' ? IS_ARGMAX4 : '', 'vec4<f32>(0.0)', take4, kind);
  }
  const take = kind === 'max' ? 'if (isArgmax(b, oy, ox, c, iy, ix)) { sum += g; }' : 'sum += g;';
  return poolGradMain(kind === 'max' ? IS_ARGMAX : '', '0.0', take, kind);
}

function poolGradMain(helpers: string, zero: string, take: string, kind: PoolKind): string {
  return `
${FIRST_WINDOW}
${helpers}

fn main() {
  let i = i32(workgroupId.y * numWorkgroups.x + workgroupId.x) * 64 + i32(localIndex);
  if (i >= uniforms.size) { return; }
  let c = i % uniforms.channels;
  let pixel = i / uniforms.channels;
  let ix = pixel % uniforms.inW;
  let iy = (pixel / uniforms.inW) % uniforms.inH;
  let b = pixel / (uniforms.inW * uniforms.inH);
  let oyEnd = min(uniforms.outH, (iy + uniforms.padTop) / uniforms.strideH + 1);
  let oxEnd = min(uniforms.outW, (ix + uniforms.padLeft) / uniforms.strideW + 1);
  var sum = ${zero};
  for (var oy = firstWindow(iy, uniforms.padTop, uniforms.fH, uniforms.strideH); oy < oyEnd; oy++) {
    for (var ox = firstWindow(ix, uniforms.padLeft, uniforms.fW, uniforms.strideW); ox < oxEnd; ox++) {
      let g = DY[((b * uniforms.outH + oy) * uniforms.outW + ox) * uniforms.channels + c];
      ${take}
    }
  }
  result[i] = ${kind === 'avg' ? 'sum * uniforms.scale' : 'sum'};
}
`;
}
