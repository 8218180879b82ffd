/**
 * The dense layer ops the runtime calls: `fusedDense` forward and `denseBackward`, the same call
 * on every backend. On webgpu (and while the kernel has not failed the suite on this device) they
 * run our fused kernels; elsewhere the TF.js sequence. Autodiff through `fusedDense` on webgpu
 * goes through the registered gradient, which again prefers the fused backward kernels.
 */

import type { GradConfig, NamedAttrMap, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { webgpuFor } from '../registry.ts';
import {
  type Activation,
  DENSE_BACKPROP_BIAS,
  DENSE_BACKPROP_FILTER,
  DENSE_BACKPROP_INPUT,
  FUSED_DENSE,
} from './dense-kernel.ts';

export type { Activation };

function check(x: Tensor2D, w: Tensor2D, bias: Tensor1D): void {
  if (x.rank !== 2 || w.rank !== 2 || bias.rank !== 1)
    throw new Error('fusedDense: x, w must be 2-D, bias 1-D');
  if (x.shape[1] !== w.shape[0] || w.shape[1] !== bias.shape[0]) {
    throw new Error(`fusedDense: shapes ${x.shape} x ${w.shape} + ${bias.shape} do not chain`);
  }
}

const maxBytes = (...sizes: number[]) => 4 * Math.max(...sizes);

/** act(x w + bias); x [B, K], w [K, N], bias [N]. */
export function fusedDense(
  x: Tensor2D,
  w: Tensor2D,
  bias: Tensor1D,
  activation: Activation = 'linear',
): Tensor2D {
  check(x, w, bias);
  if (webgpuFor(FUSED_DENSE, maxBytes(x.size, w.size, x.shape[0] * w.shape[1]))) {
    return tf.engine().runKernel(FUSED_DENSE, { x, w, bias }, { activation }) as Tensor2D;
  }
  return fusedDenseTfjs(x, w, bias, activation);
}

/** TF.js's best sequence for the same layer: its own fused matmul kernel. */
export function fusedDenseTfjs(x: Tensor2D, w: Tensor2D, bias: Tensor1D, activation: Activation): Tensor2D {
  return tf.fused.matMul({ a: x, b: w, bias, activation }) as Tensor2D;
}

export interface DenseGrads {
  dx: Tensor2D;
  dw: Tensor2D;
  db: Tensor1D;
}

type Grad = 'dx' | 'dw' | 'db';
const KERNEL_OF: Record<Grad, string> = {
  dx: DENSE_BACKPROP_INPUT,
  dw: DENSE_BACKPROP_FILTER,
  db: DENSE_BACKPROP_BIAS,
};

/** One gradient of the layer; each is separate so autodiff computes only the ones it needs. */
function denseGrad(
  which: Grad,
  dy: Tensor2D,
  x: Tensor2D,
  w: Tensor2D,
  y: Tensor2D,
  activation: Activation,
): Tensor {
  const kernel = KERNEL_OF[which];
  if (webgpuFor(kernel, maxBytes(x.size, w.size, dy.size))) {
    const inputs: Record<string, Tensor> =
      which === 'dx' ? { dy, w, y } : which === 'dw' ? { x, dy, y } : { dy, y };
    return tf.engine().runKernel(kernel, inputs, { activation }) as Tensor;
  }
  return tf.tidy(() => {
    const g = activation === 'relu' ? tf.mul(dy, tf.step(y)) : dy;
    if (which === 'dx') return tf.matMul(g, w, false, true);
    if (which === 'dw') return tf.matMul(x, g, true, false);
    return tf.sum(g, 0);
  });
}

/**
 * Gradients of the layer given dL/dY. `y` is the layer's forward output; with relu its sign is
 * relu'(z), so the pre-activation need not be kept.
 */
export function denseBackward(
  dy: Tensor2D,
  x: Tensor2D,
  w: Tensor2D,
  y: Tensor2D,
  activation: Activation = 'linear',
): DenseGrads {
  return {
    dx: denseGrad('dx', dy, x, w, y, activation) as Tensor2D,
    dw: denseGrad('dw', dy, x, w, y, activation) as Tensor2D,
    db: denseGrad('db', dy, x, w, y, activation) as Tensor1D,
  };
}

export const fusedDenseGradConfig: GradConfig = {
  kernelName: FUSED_DENSE,
  inputsToSave: ['x', 'w'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, w, y] = saved as Tensor2D[];
    const activation = ((attrs as NamedAttrMap).activation ?? 'linear') as Activation;
    const g = dy as Tensor2D;
    return {
      x: () => denseGrad('dx', g, x, w, y, activation),
      w: () => denseGrad('dw', g, x, w, y, activation),
      bias: () => denseGrad('db', g, x, w, y, activation),
    };
  },
};
