/**
 * im2col and col2im on plain typed arrays, NHWC, for the wasm convolution gradients. They turn a
 * convolution's gradient into one matrix product (which the wasm backend runs through XNNPACK,
 * SIMD and multi-threaded) plus a gather or a scatter-add that is memory-bound and cheap next to
 * it. Browser-safe and backend-free, so the same code is tested against a float64 loop directly.
 *
 * Column layout: one row per output pixel m = (n, oy, ox), one column per filter tap
 * k = (ky, kx, ci), i.e. the filter's own [fh, fw, cin] order, so cols [M, K] times the filter
 * viewed as [K, cout] is the convolution, and row runs of `cin` values copy contiguously.
 */

/** The geometry both transforms need; TF.js's Conv2DInfo carries all of it. */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; left: number };
}

export const colsShape = (g: ConvGeometry): [number, number] => [
  g.batchSize * g.outHeight * g.outWidth,
  g.filterHeight * g.filterWidth * g.inChannels,
];

/**
 * The valid part of one filter row: taps kx in [lo, hi) land inside the image. For a fixed input
 * row those taps read one contiguous run of x (dilation 1), so both transforms copy runs with
 * plain loops, which V8 compiles to tight code (set()/subarray cost more than 5-value runs).
 */
function tapRange(x0: number, g: ConvGeometry): [number, number] {
  if (g.dilationWidth !== 1) throw new Error('im2col: dilation 1 only');
  return [Math.max(0, -x0), Math.min(g.filterWidth, g.inWidth - x0)];
}

/** cols[m, k] = x[n, oy*sh + ky - top, ox*sw + kx - left, ci], zero outside the image. */
export function im2col(x: Float32Array, g: ConvGeometry, cols: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: FH, filterWidth: FW } = g;
  const rowLen = FW * C;
  let k = 0;
  for (let n = 0; n < g.batchSize; n++) {
    const xBatch = n * H * W * C;
    for (let oy = 0; oy < g.outHeight; oy++) {
      const y0 = oy * g.strideHeight - g.padInfo.top;
      for (let ox = 0; ox < g.outWidth; ox++) {
        const x0 = ox * g.strideWidth - g.padInfo.left;
        const [lo, hi] = tapRange(x0, g);
        for (let ky = 0; ky < FH; ky++, k += rowLen) {
          const iy = y0 + ky;
          if (iy < 0 || iy >= H || lo >= hi) {
            cols.fill(0, k, k + rowLen);
            continue;
          }
          const src = xBatch + (iy * W + x0) * C;
          const a = lo * C;
          const b = hi * C;
          for (let j = 0; j < a; j++) cols[k + j] = 0;
          for (let j = a; j < b; j++) cols[k + j] = x[src + j];
          for (let j = b; j < rowLen; j++) cols[k + j] = 0;
        }
      }
    }
  }
}

/** The adjoint of im2col: dx[n, iy, ix, ci] = sum of cols[m, k] over every (m, k) that read it. */
export function col2im(cols: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, filterHeight: FH, filterWidth: FW } = g;
  const rowLen = FW * C;
  dx.fill(0);
  let k = 0;
  for (let n = 0; n < g.batchSize; n++) {
    const xBatch = n * H * W * C;
    for (let oy = 0; oy < g.outHeight; oy++) {
      const y0 = oy * g.strideHeight - g.padInfo.top;
      for (let ox = 0; ox < g.outWidth; ox++) {
        const x0 = ox * g.strideWidth - g.padInfo.left;
        const [lo, hi] = tapRange(x0, g);
        for (let ky = 0; ky < FH; ky++, k += rowLen) {
          const iy = y0 + ky;
          if (iy < 0 || iy >= H) continue;
          const dst = xBatch + (iy * W + x0) * C;
          for (let j = lo * C; j < hi * C; j++) dx[dst + j] += cols[k + j];
        }
      }
    }
  }
}
