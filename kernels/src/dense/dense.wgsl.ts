/**
 * WGSL for the fused dense layer, as template strings rather than `.wgsl` files: tsx (tests,
 * bench in Node) cannot import `?raw`, and a runtime fetch would tie kernels to a URL layout.
 * A `.ts` module loads unchanged in Node and through Vite, and lets setup-time facts
 * (transposes, masks, activation) be baked into the text while shapes stay in uniforms.
 *
 * One tiled matmul serves forward and both weight/input gradients:
 *   out[m, n] = act(sum_k opA(A)[m, k] * opB(B)[k, n] + bias[n])
 * where opX is an optional transpose and an optional ReLU mask (keep the element where the saved
 * forward output `Mask` is > 0), which is how relu' is fused into the backward matmuls.
 */

export interface MatMulVariant {
  /**
   * Tiling: a `threads` x `threads` workgroup, each thread computing `perThread` x `perThread`
   * outputs, so the workgroup owns a (threads * perThread)-square output tile. Big tiles reuse
   * loads best; small ones keep enough workgroups busy on small outputs (64x128 in 64x64 tiles
   * is 2 workgroups).
   */
  threads: 8 | 16;
  perThread: 1 | 4;
  transA: boolean;
  transB: boolean;
  /** Which operand, if any, is multiplied by relu'(Mask); Mask has that operand's layout. */
  mask: 'none' | 'a' | 'b';
  bias: boolean;
  relu: boolean;
}

export const tileOf = (v: Pick<MatMulVariant, 'threads' | 'perThread'>) => v.threads * v.perThread;
const TILE_K = 16;

function operandLoad(name: 'A' | 'B', trans: boolean, masked: boolean): string {
  // Logical operand A is [M, K] and B is [K, N]; stored transposed when `trans`.
  const idx =
    name === 'A'
      ? trans
        ? 'col * uniforms.dimM + row'
        : 'row * uniforms.dimK + col'
      : trans
        ? 'col * uniforms.dimK + row'
        : 'row * uniforms.dimN + col';
  const rows = name === 'A' ? 'uniforms.dimM' : 'uniforms.dimK';
  const cols = name === 'A' ? 'uniforms.dimK' : 'uniforms.dimN';
  const value = masked ? `select(0.0, ${name}[idx], Mask[idx] > 0.0)` : `${name}[idx]`;
  return `
fn load${name}(row : i32, col : i32) -> f32 {
  if (row >= ${rows} || col >= ${cols}) { return 0.0; }
  let idx = ${idx};
  return ${value};
}`;
}

export function matMulSource(v: MatMulVariant): string {
  const T = tileOf(v);
  const P = v.perThread;
  const W = v.threads;
  const loads = (T * TILE_K) / (W * W);
  // Tile loads: W*W threads move T*TILE_K elements of each operand per step. The
  // element-to-thread mapping follows the stored layout so neighbouring threads read
  // neighbouring addresses.
  const aCoord = v.transA
    ? `let ar = e % ${T}; let ak = e / ${T};`
    : `let ar = e / ${TILE_K}; let ak = e % ${TILE_K};`;
  const bCoord = v.transB
    ? `let bk = e % ${TILE_K}; let bc = e / ${TILE_K};`
    : `let bk = e / ${T}; let bc = e % ${T};`;
  let epilogue = 'var value = acc[r][c];';
  if (v.bias) epilogue += ' value = value + Bias[col];';
  if (v.relu) epilogue += ' value = max(value, 0.0);';
  return `
var<workgroup> tileA : array<array<f32, ${TILE_K}>, ${T}>;
var<workgroup> tileB : array<array<f32, ${T}>, ${TILE_K}>;
${operandLoad('A', v.transA, v.mask === 'a')}
${operandLoad('B', v.transB, v.mask === 'b')}

fn main() {
  let tileRow = i32(workgroupId.y) * ${T};
  let tileCol = i32(workgroupId.x) * ${T};
  let tx = i32(localId.x);
  let ty = i32(localId.y);
  let flat = ty * ${W} + tx;
  var acc : array<array<f32, ${P}>, ${P}>;
  let numTiles = (uniforms.dimK + ${TILE_K - 1}) / ${TILE_K};
  for (var t = 0; t < numTiles; t++) {
    let k0 = t * ${TILE_K};
    for (var i = 0; i < ${loads}; i++) {
      let e = flat + i * ${W * W};
      ${aCoord}
      tileA[ar][ak] = loadA(tileRow + ar, k0 + ak);
      ${bCoord}
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
  for (var r = 0; r < ${P}; r++) {
    let row = tileRow + ty * ${P} + r;
    for (var c = 0; c < ${P}; c++) {
      let col = tileCol + tx * ${P} + c;
      if (row < uniforms.dimM && col < uniforms.dimN) {
        ${epilogue}
        result[row * uniforms.dimN + col] = value;
      }
    }
  }
}
`;
}

/**
 * Column sums of dY (masked by relu'(Y) when `masked`): the bias gradient. A 16x16 workgroup
 * owns 16 columns; its 16 rows of threads split the batch and combine in workgroup memory.
 */
export function columnSumSource(masked: boolean): string {
  const value = masked ? 'select(0.0, G[idx], Mask[idx] > 0.0)' : 'G[idx]';
  return `
var<workgroup> partial : array<array<f32, 16>, 16>;

fn main() {
  let tx = i32(localId.x);
  let ty = i32(localId.y);
  let col = i32(workgroupId.x) * 16 + tx;
  var sum = 0.0;
  if (col < uniforms.cols) {
    for (var row = ty; row < uniforms.rows; row += 16) {
      let idx = row * uniforms.cols + col;
      sum += ${value};
    }
  }
  partial[ty][tx] = sum;
  workgroupBarrier();
  if (ty == 0 && col < uniforms.cols) {
    var total = 0.0;
    for (var i = 0; i < 16; i++) { total += partial[i][tx]; }
    result[col] = total;
  }
}
`;
}
