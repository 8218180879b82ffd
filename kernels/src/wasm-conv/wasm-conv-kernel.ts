/**
 * Convolution gradients for TF.js's wasm backend, which ships without Conv2DBackpropFilter (so
 * it cannot train a CNN) and with a plain single-threaded loop for Conv2DBackpropInput. Both are
 * rebuilt on the backend's own XNNPACK kernels (SIMD, and threads on a cross-origin-isolated
 * page), with the cheap memory-bound parts (im2col, col2im, transposes) in JS on the wasm heap:
 *
 *   dW[K, cout] = (dy^T[cout, M] im2col(x)[M, K])^T     (BatchMatMul)
 *   dx          = conv2d(dy, W flipped and transposed, "full" padding)   for stride 1 (Conv2D)
 *   dx          = col2im(dy[M, cout] W^T[cout, K])       for larger strides (BatchMatMul)
 *
 * with M = batch * outH * outW and K = fh * fw * cin. The operand orders are the measured fast
 * ones: XNNPACK's BatchMatMul here is quick when the product is short and wide (dy^T cols: 3 ms
 * at M 4096, K 200, cout 16) and slow with transposeA or with a tall output (26-60 ms), which is
 * why dy is transposed in JS instead. NHWC only: what tf.layers and tf.conv2d give GridTab's
 * models (channelsFirst layers transpose to NHWC); TF.js defines these gradients at dilation 1.
 */
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { col2im, colsShape, im2col } from './im2col.ts';

function wasmKernel(name: 'BatchMatMul' | 'Conv2D'): KernelFunc {
  // Looked up on each call, not at import: the wasm backend registers its kernels on import and
  // this module must not depend on being imported after it.
  const kernel = getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm conv gradients need the wasm backend's ${name} kernel`);
  return kernel.kernelFunc;
}

/** A view of `t` with another shape over the same data (BatchMatMul reshapes its inputs itself). */
const reshaped = (t: TensorInfo, shape: number[]): TensorInfo => ({
  dataId: t.dataId,
  shape,
  dtype: t.dtype,
});

// Heap views are taken after the last allocation before their use: an allocation can grow the
// wasm memory and detach earlier views.
const heap = (backend: BackendWasm, t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;

/** out[c, r] = src[r, c] for a rows x cols matrix. */
function transpose2d(src: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + c];
  }
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: Pick<Conv2DBackpropFilterAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'>,
): backend_util.Conv2DInfo {
  if (attrs.dataFormat === 'NCHW') throw new Error('GridTab wasm conv gradients take NHWC only');
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

interface Args<I, A> {
  inputs: I;
  backend: BackendWasm;
  attrs: A;
}

function conv2DBackpropFilter({
  inputs: { x, dy },
  backend,
  attrs,
}: Args<{ x: TensorInfo; dy: TensorInfo }, Conv2DBackpropFilterAttrs>): TensorInfo {
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  const [m, k] = colsShape(info);
  const cout = info.outChannels;
  const cols = backend.makeOutput([m, k], 'float32');
  const dyT = backend.makeOutput([cout, m], 'float32');
  im2col(heap(backend, x), info, heap(backend, cols));
  transpose2d(heap(backend, dy), m, cout, heap(backend, dyT));
  const dwT = wasmKernel('BatchMatMul')({
    inputs: { a: dyT, b: cols },
    backend,
    attrs: { transposeA: false, transposeB: false },
  }) as TensorInfo;
  const dw = backend.makeOutput([...attrs.filterShape], 'float32');
  transpose2d(heap(backend, dwT), cout, k, heap(backend, dw));
  for (const t of [cols, dyT, dwT]) backend.disposeData(t.dataId);
  return dw;
}

/** Stride 1: the gradient is a convolution of dy with the filter rotated 180 degrees, in and out swapped. */
function inputGradByConv(
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  backend: BackendWasm,
): TensorInfo {
  const { filterHeight: fh, filterWidth: fw, inChannels: cin, outChannels: cout } = info;
  const flipped = backend.makeOutput([fh, fw, cout, cin], 'float32');
  const w = heap(backend, filter);
  const f = heap(backend, flipped);
  for (let ky = 0; ky < fh; ky++) {
    for (let kx = 0; kx < fw; kx++) {
      const src = ((fh - 1 - ky) * fw + (fw - 1 - kx)) * cin * cout;
      const dst = (ky * fw + kx) * cout * cin;
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) f[dst + co * cin + ci] = w[src + ci * cout + co];
      }
    }
  }
  // "Full" padding, sized so the result is exactly the input's extent (asymmetric for 'same'
  // with an even filter, and for inputs a valid convolution did not cover to the edge).
  const top = fh - 1 - info.padInfo.top;
  const left = fw - 1 - info.padInfo.left;
  const bottom = info.inHeight - info.outHeight + info.padInfo.top;
  const right = info.inWidth - info.outWidth + info.padInfo.left;
  const dx = wasmKernel('Conv2D')({
    inputs: { x: dy, filter: flipped },
    backend,
    attrs: {
      strides: 1,
      dilations: 1,
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  }) as TensorInfo;
  backend.disposeData(flipped.dataId);
  return dx;
}

function inputGradByCol2im(
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  backend: BackendWasm,
): TensorInfo {
  const [m, k] = colsShape(info);
  const dcols = wasmKernel('BatchMatMul')({
    inputs: { a: reshaped(dy, [m, info.outChannels]), b: reshaped(filter, [k, info.outChannels]) },
    backend,
    attrs: { transposeA: false, transposeB: true },
  }) as TensorInfo;
  const dx = backend.makeOutput([...info.inShape], 'float32');
  col2im(heap(backend, dcols), info, heap(backend, dx));
  backend.disposeData(dcols.dataId);
  return dx;
}

function conv2DBackpropInput({
  inputs: { dy, filter },
  backend,
  attrs,
}: Args<{ dy: TensorInfo; filter: TensorInfo }, Conv2DBackpropInputAttrs>): TensorInfo {
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  const { top, left } = info.padInfo;
  const byConv =
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    top <= info.filterHeight - 1 &&
    left <= info.filterWidth - 1 &&
    info.inHeight - info.outHeight + top >= 0 &&
    info.inWidth - info.outWidth + left >= 0;
  return byConv ? inputGradByConv(dy, filter, info, backend) : inputGradByCol2im(dy, filter, info, backend);
}

export const wasmConv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};

export const wasmConv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
