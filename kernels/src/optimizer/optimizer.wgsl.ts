/**
 * WGSL for optimizer steps over one flat state buffer (template strings: see dense.wgsl.ts).
 * A TF.js program has one output, so the whole optimizer state is one tensor and one dispatch
 * updates all of it: thread i reads its parameter, slots and gradient once and writes them once.
 *   adam:     state = [params | m | v]       (3n)
 *   momentum: state = [params | velocity]    (2n)
 * Formulas follow TF.js's AdamOptimizer and MomentumOptimizer (non-Nesterov) exactly. 1 - beta
 * comes in as a uniform computed in float64: 1 - f32(0.999) in the shader is off by 1.3e-5.
 */
import { FLAT_WORKGROUP_INDEX } from '../gpu/program.ts';

export const STEP_THREADS = 64;

export function adamSource(): string {
  return `
fn main() {
  let i = ${FLAT_WORKGROUP_INDEX} * ${STEP_THREADS} + i32(localIndex);
  let n = uniforms.n;
  if (i < n) {
    let g = Grad[i];
    let m = uniforms.beta1 * State[n + i] + uniforms.oneMinusBeta1 * g;
    let v = uniforms.beta2 * State[2 * n + i] + uniforms.oneMinusBeta2 * g * g;
    let mHat = m / uniforms.oneMinusBeta1Pow;
    let vHat = v / uniforms.oneMinusBeta2Pow;
    result[i] = State[i] - uniforms.lr * (mHat / (sqrt(vHat) + uniforms.epsilon));
    result[n + i] = m;
    result[2 * n + i] = v;
  }
}
`;
}

export function momentumSource(): string {
  return `
fn main() {
  let i = ${FLAT_WORKGROUP_INDEX} * ${STEP_THREADS} + i32(localIndex);
  let n = uniforms.n;
  if (i < n) {
    let velocity = uniforms.momentum * State[n + i] + Grad[i];
    result[i] = State[i] - uniforms.lr * velocity;
    result[n + i] = velocity;
  }
}
`;
}
