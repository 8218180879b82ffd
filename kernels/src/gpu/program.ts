/**
 * Thin layer over tfjs-backend-webgpu's program contract. TF.js generates the bindings header
 * (`result`, one read-only array per input name, a `uniforms` struct holding our extra fields)
 * and calls our `main()`; we only supply the WGSL body, as its own kernels do. Going through
 * `runWebGPUProgram` keeps tensors on the GPU and records our dispatch into the backend's own
 * command encoder, so our kernels interleave with TF.js kernels without extra syncs.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/** One uniform field; TF.js lays out `data` of length 1 as a scalar, 2-4 as a vector. */
export type Uniform = { type: 'float32' | 'int32'; data: number[] };

/** Scalar i32 uniform fields, in declaration order. */
export const ints = (...values: number[]): Uniform[] => values.map((v) => ({ type: 'int32', data: [v] }));
/** Scalar f32 uniform fields, in declaration order. */
export const floats = (...values: number[]): Uniform[] => values.map((v) => ({ type: 'float32', data: [v] }));

export interface ProgramSpec {
  /** Holds every setup-time fact that changes the WGSL text; TF.js adds ranks and dtypes. */
  shaderKey: string;
  variableNames: string[];
  outputShape: number[];
  /** Number of workgroups in x, y, z. */
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** Extra uniform fields, WGSL syntax with trailing commas, e.g. `m : i32, alpha : f32,`. */
  uniforms?: string;
  /** Vector width of the output and every input array (1 or 4). */
  components?: 1 | 4;
  /** Per-input vector widths, when they differ from `components` (TF.js's variableComponents). */
  inputComponents?: (1 | 4)[];
  /** WGSL defining `fn main()`; reads the private `workgroupId`, `localId`, `localIndex`. */
  userCode: string;
  /** Output declared `array<atomic<i32>>` (histograms, slot counters); pass a zeroed `output`. */
  atomic?: boolean;
}

/** Largest dispatch per dimension WebGPU guarantees; spill over into y when beyond. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

/** Splits a flat workgroup count over x and y so that neither exceeds the per-dimension limit. */
export function flatDispatch(workgroups: number): [number, number, number] {
  if (workgroups <= MAX_WORKGROUPS_PER_DIM) return [Math.max(1, workgroups), 1, 1];
  const y = Math.ceil(workgroups / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(workgroups / y), y, 1];
}

/**
 * WGSL snippet: the flat workgroup index for a dispatch made by `flatDispatch`. It depends only on
 * workgroup builtins, so every invocation of a workgroup sees the same value.
 */
export const FLAT_WORKGROUP_INDEX = 'i32(workgroupId.y * numWorkgroups.x + workgroupId.x)';

export function runProgram(
  backend: WebGPUBackend,
  spec: ProgramSpec,
  inputs: TensorInfo[],
  outputDtype: DataType,
  uniforms: Uniform[],
  output?: TensorInfo,
): TensorInfo {
  if (spec.outputShape.length > 2) throw new Error('runProgram: outputs are flat or 2-D');
  const program: WebGPUProgram = {
    shaderKey: spec.shaderKey,
    variableNames: spec.variableNames,
    outputShape: spec.outputShape,
    // A non-empty y layout makes TF.js call `main()` without a flat index (our kernels index by
    // workgroup themselves), and a 3-entry layout on a rank 1 or 2 output makes it skip its
    // `getOutputCoords` helper, which we do not use.
    dispatchLayout: { x: [0], y: [1], z: [2] },
    dispatch: spec.dispatch,
    workgroupSize: spec.workgroupSize,
    uniforms: spec.uniforms,
    outputComponent: spec.components ?? 1,
    variableComponents: spec.inputComponents,
    getUserCode: () => spec.userCode,
    atomic: spec.atomic,
  };
  return backend.runWebGPUProgram(program, inputs, outputDtype, uniforms, output);
}
