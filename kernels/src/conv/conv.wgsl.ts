/**
 * WGSL for the 2-D convolution and its two gradients as implicit GEMMs: no im2col buffer is
 * written; each operand's loader computes, for a (row, col) of the virtual matrix, which input
 * element it is (or 0 where the window hangs over the padding). One tiled matmul body, the
 * dense kernel's (workgroup tiles of A and B in workgroup memory, `perThread` x `perThread`
 * outputs per thread), serves all three passes. NHWC input, HWIO filter, as TF.js stores them:
 *
 *   forward  y[M=(b,oy,ox), N=co]  = act(sum_{K=(ky,kx,ci)} x[b, iy, ix, ci] W[ky,kx,ci,co] + bias[co])
 *   dX       dx[M=(b,iy,ix), N=ci] = sum_{K=(ky,kx,co)} dy[b, oy, ox, co] W[ky,kx,ci,co]
 *            where oy = (iy + padTop - ky) / strideH when that divides exactly and is in range
 *   dW       dw[M=(ky,kx,ci), N=co] = sum_{K=(b,oy,ox)} x[b, iy, ix, ci] dy[b, oy, ox, co]
 *
 * with iy = oy * strideH - padTop + ky (and likewise for x). The result's row-major [M, N] is
 * exactly NHWC for y and dX and HWIO for dW, so no output transpose either.
 *
 * dW has a small M x N (a 5x5x8x16 filter is 200 x 16) and a long K (batch x output pixels), so
 * it splits K over `workgroupId.z` (split-K): each slice writes a partial [M, N] and a second
 * small kernel adds them. Without it a 5x5x1x8 filter is one workgroup: one core of a CPU
 * adapter, one SM of a GPU.
 */

export type ConvPass = 'forward' | 'input' | 'filter';
export type ConvActivation = 'linear' | 'relu' | 'relu6';

export interface ConvGemmVariant {
  pass: ConvPass;
  /** Tiling as in the dense kernel: a threads x threads workgroup owns a (threads * perThread) square tile. */
  threads: 8 | 16;
  perThread: 1 | 4;
  /** Forward only: add Bias[co] and apply the activation in the epilogue. */
  bias: boolean;
  activation: ConvActivation;
}

/** Geometry uniforms shared by the three passes, in declaration order (see convUniforms). */
export const CONV_UNIFORMS =
  'batch : i32, inH : i32, inW : i32, inC : i32, outH : i32, outW : i32, outC : i32, ' +
  'fH : i32, fW : i32, strideH : i32, strideW : i32, padTop : i32, padLeft : i32, ' +
  'dimM : i32, dimN : i32, dimK : i32, kChunk : i32,';

export const TILE_K = 16;
export const convTileOf = (v: Pick<ConvGemmVariant, 'threads' | 'perThread'>) => v.threads * v.perThread;

// Decoding a flat index into (b, y, x) or (ky, kx, c): integer divisions, cheap next to the loads.
const decodePixel = (flat: string, h: string, w: string, p: string) => `
  let ${p}x = ${flat} % uniforms.${w};
  let ${p}rest = ${flat} / uniforms.${w};
  let ${p}y = ${p}rest % uniforms.${h};
  let ${p}b = ${p}rest / uniforms.${h};`;
const decodeTap = (flat: string, c: string) => `
  let tc = ${flat} % uniforms.${c};
  let tk = ${flat} / uniforms.${c};
  let kx = tk % uniforms.fW;
  let ky = tk / uniforms.fW;`;

/** x[b, iy, ix, ci] for output pixel (b, oy, ox) and tap (ky, kx); 0 in the padding. */
const xAt = (b: string, oy: string, ox: string, ci: string) => `
  let iy = ${oy} * uniforms.strideH - uniforms.padTop + ky;
  let ix = ${ox} * uniforms.strideW - uniforms.padLeft + kx;
  if (iy < 0 || iy >= uniforms.inH || ix < 0 || ix >= uniforms.inW) { return 0.0; }
  return X[((${b} * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC + ${ci}];`;

const LOADERS: Record<ConvPass, { a: string; b: string }> = {
  forward: {
    a: `${decodeTap('col', 'inC')}${decodePixel('row', 'outH', 'outW', 'o')}${xAt('ob', 'oy', 'ox', 'tc')}`,
    b: 'return W[row * uniforms.dimN + col];',
  },
  input: {
    a: `${decodeTap('col', 'outC')}${decodePixel('row', 'inH', 'inW', 'i')}
  let ty = iy + uniforms.padTop - ky;
  let tx = ix + uniforms.padLeft - kx;
  if (ty < 0 || tx < 0 || ty % uniforms.strideH != 0 || tx % uniforms.strideW != 0) { return 0.0; }
  let oy = ty / uniforms.strideH;
  let ox = tx / uniforms.strideW;
  if (oy >= uniforms.outH || ox >= uniforms.outW) { return 0.0; }
  return DY[((ib * uniforms.outH + oy) * uniforms.outW + ox) * uniforms.outC + tc];`,
    // row = (ky, kx, co), col = ci: W[ky, kx, ci, co].
    b: `
  let co = row % uniforms.outC;
  let tap = row / uniforms.outC;
  return W[(tap * uniforms.inC + col) * uniforms.outC + co];`,
  },
  filter: {
    a: `${decodeTap('row', 'inC')}${decodePixel('col', 'outH', 'outW', 'o')}${xAt('ob', 'oy', 'ox', 'tc')}`,
    b: 'return DY[row * uniforms.dimN + col];',
  },
};

/**
 * Which element of a tile each thread loads: neighbouring threads take neighbouring addresses.
 * Forward and dX read A along K (channels are innermost in NHWC); dW reads A along M (ci). B is
 * read along N except in dX, where W's innermost dimension (co) runs along K.
 */
function tileCoords(pass: ConvPass, T: number): { a: string; b: string } {
  const kFastA = `let ar = e / ${TILE_K}; let ak = e % ${TILE_K};`;
  const mFastA = `let ar = e % ${T}; let ak = e / ${T};`;
  const nFastB = `let bk = e / ${T}; let bc = e % ${T};`;
  const kFastB = `let bk = e % ${TILE_K}; let bc = e / ${TILE_K};`;
  return { a: pass === 'filter' ? mFastA : kFastA, b: pass === 'input' ? kFastB : nFastB };
}

const ACTIVATIONS: Record<ConvActivation, string> = {
  linear: '',
  relu: 'value = max(value, 0.0);',
  relu6: 'value = clamp(value, 0.0, 6.0);',
};

export function convGemmSource(v: ConvGemmVariant): string {
  const T = convTileOf(v);
  const P = v.perThread;
  const W = v.threads;
  const loads = (T * TILE_K) / (W * W);
  const coords = tileCoords(v.pass, T);
  const loaders = LOADERS[v.pass];
  const epilogue = `var value = acc[r][c];${v.bias ? ' value = value + Bias[col];' : ''} ${ACTIVATIONS[v.activation]}`;
  return `
var<workgroup> tileA : array<array<f32, ${TILE_K}>, ${T}>;
var<workgroup> tileB : array<array<f32, ${T}>, ${TILE_K}>;

fn loadA(row : i32, col : i32) -> f32 {
  if (row >= uniforms.dimM || col >= uniforms.dimK) { return 0.0; }
  ${loaders.a}
}

fn loadB(row : i32, col : i32) -> f32 {
  if (row >= uniforms.dimK || col >= uniforms.dimN) { return 0.0; }
  ${loaders.b}
}

fn main() {
  let tileRow = i32(workgroupId.y) * ${T};
  let tileCol = i32(workgroupId.x) * ${T};
  let tx = i32(localId.x);
  let ty = i32(localId.y);
  let flat = ty * ${W} + tx;
  // Split-K: slice z sums K in [kStart, kStart + kChunk); kChunk is a multiple of ${TILE_K}, so
  // no tile straddles two slices, and the loaders zero what lies past dimK. The trip count must
  // come from uniforms alone: barriers need uniform control flow, and WGSL's analysis does not
  // count workgroupId as uniform.
  let kStart = i32(workgroupId.z) * uniforms.kChunk;
  var acc : array<array<f32, ${P}>, ${P}>;
  for (var t = 0; t < uniforms.kChunk / ${TILE_K}; t++) {
    let k0 = kStart + t * ${TILE_K};
    for (var i = 0; i < ${loads}; i++) {
      let e = flat + i * ${W * W};
      ${coords.a}
      tileA[ar][ak] = loadA(tileRow + ar, k0 + ak);
      ${coords.b}
      tileB[bk][bc] = loadB(k0 + bk, tileCol + bc);
    }
    workgroupBarrier();
    for (var kk = 0; kk < ${TILE_K}; kk++) {
      var bv : array<f32, ${P}>;
      for (var c = 0; c < ${P}; c++) { bv[c] = tileB[kk][tx * ${P} + c]; }
      for (var r = 0; r < ${P}; r++) {
        let av = tileA[ty * ${P} + r][kk];
        for (var c = 0; c < ${P}; c++) { acc[r][c] = fma(av, bv[c], acc[r][c]); }
      }
    }
    workgroupBarrier();
  }
  let sliceBase = i32(workgroupId.z) * uniforms.dimM * uniforms.dimN;
  for (var r = 0; r < ${P}; r++) {
    let row = tileRow + ty * ${P} + r;
    for (var c = 0; c < ${P}; c++) {
      let col = tileCol + tx * ${P} + c;
      if (row < uniforms.dimM && col < uniforms.dimN) {
        ${epilogue}
        result[sliceBase + row * uniforms.dimN + col] = value;
      }
    }
  }
}
`;
}

/** Adds the split-K slices: out[i] = sum_s P[s * size + i]. One thread per element. */
export const SPLIT_SUM_SOURCE = `
fn main() {
  let i = i32(workgroupId.y * numWorkgroups.x + workgroupId.x) * 64 + i32(localIndex);
  if (i >= uniforms.size) { return; }
  var sum = 0.0;
  for (var s = 0; s < uniforms.splits; s++) { sum += P[s * uniforms.size + i]; }
  result[i] = sum;
}
`;
