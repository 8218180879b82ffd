/**
 * Entry point for the wasm convolution gradients alone (`@gridtab/kernels/wasm-conv`), so the
 * coordinator and the headless worker can register them without loading the webgpu kernels.
 */
export { type ConvGeometry, col2im, colsShape, im2col } from './im2col.ts';
export { type ConvCaseParams, checkWasmConv, WASM_CONV_CASES, wasmConvSuite } from './wasm-conv.suite.ts';
export { registerWasmConvKernels, unregisterWasmConvKernels, WASM_CONV_CONFIGS } from './wasm-conv.ts';
