/**
 * Kernel configs of the fused optimizer steps on webgpu: one dispatch per step over the whole
 * flat state (see optimizer.wgsl.ts for the layout). Hyperparameters are uniforms, so a learning
 * rate schedule never recompiles.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { flatDispatch, floats, ints, runProgram } from '../gpu/program.ts';
import { adamSource, momentumSource, STEP_THREADS } from './optimizer.wgsl.ts';

export const ADAM_STEP = 'GridTabAdamStep';
export const MOMENTUM_STEP = 'GridTabMomentumStep';

function step(
  backend: WebGPUBackend,
  name: string,
  userCode: string,
  uniformNames: string[],
  inputs: { state: TensorInfo; grad: TensorInfo },
  values: number[],
): TensorInfo {
  const n = inputs.grad.shape[0];
  return runProgram(
    backend,
    {
      shaderKey: name,
      variableNames: ['State', 'Grad'],
      outputShape: inputs.state.shape,
      dispatch: flatDispatch(Math.ceil(n / STEP_THREADS)),
      workgroupSize: [STEP_THREADS, 1, 1],
      uniforms: `n : i32, ${uniformNames.map((u) => `${u} : f32,`).join(' ')}`,
      userCode,
    },
    [inputs.state, inputs.grad],
    'float32',
    [...ints(n), ...floats(...values)],
  );
}

export const adamStepConfig: KernelConfig = {
  kernelName: ADAM_STEP,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const a = attrs as Record<string, number>;
    return step(
      backend as WebGPUBackend,
      'gridtab_adam_step',
      adamSource(),
      [
        'lr',
        'beta1',
        'beta2',
        'oneMinusBeta1',
        'oneMinusBeta2',
        'epsilon',
        'oneMinusBeta1Pow',
        'oneMinusBeta2Pow',
      ],
      inputs as { state: TensorInfo; grad: TensorInfo },
      [
        a.lr,
        a.beta1,
        a.beta2,
        1 - a.beta1,
        1 - a.beta2,
        a.epsilon,
        1 - a.beta1 ** a.step,
        1 - a.beta2 ** a.step,
      ],
    );
  },
};

export const momentumStepConfig: KernelConfig = {
  kernelName: MOMENTUM_STEP,
  backendName: 'webgpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const a = attrs as Record<string, number>;
    return step(
      backend as WebGPUBackend,
      'gridtab_momentum_step',
      momentumSource(),
      ['lr', 'momentum'],
      inputs as { state: TensorInfo; grad: TensorInfo },
      [a.lr, a.momentum],
    );
  },
};
