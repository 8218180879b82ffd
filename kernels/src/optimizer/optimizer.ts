/**
 * Optimizer steps over a whole parameter set held as one flat state tensor: `adamStep` and
 * `momentumStep` return the next state (one kernel on webgpu, TF.js ops elsewhere). The runtime
 * flattens its model's gradients into one buffer, steps, and reads parameters back with
 * `paramsOf` — one dispatch per step instead of several kernels per variable.
 */

import type { Tensor1D } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { webgpuFor } from '../registry.ts';
import { ADAM_STEP, MOMENTUM_STEP } from './optimizer-kernel.ts';

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1-based step number, for bias correction. */
  step: number;
}

export interface MomentumConfig {
  lr: number;
  momentum: number;
}

/** Slots per parameter: Adam keeps params, m, v; momentum keeps params, velocity. */
export const ADAM_SLOTS = 3;
export const MOMENTUM_SLOTS = 2;

/** A fresh state: the parameters followed by zeroed slots. */
export function initialState(params: Tensor1D, slots: number): Tensor1D {
  return tf.tidy(() => tf.concat([params, tf.zeros([params.size * (slots - 1)])]) as Tensor1D);
}

export function paramsOf(state: Tensor1D, slots: number): Tensor1D {
  return tf.slice(state, 0, state.size / slots);
}

function check(state: Tensor1D, grad: Tensor1D, slots: number): void {
  if (state.rank !== 1 || grad.rank !== 1 || state.size !== slots * grad.size) {
    throw new Error(`optimizer step: state ${state.shape} must be ${slots} x grad ${grad.shape}`);
  }
}

export function adamStep(state: Tensor1D, grad: Tensor1D, c: AdamConfig): Tensor1D {
  check(state, grad, ADAM_SLOTS);
  if (webgpuFor(ADAM_STEP, 4 * state.size)) {
    return tf.engine().runKernel(ADAM_STEP, { state, grad }, { ...c }) as Tensor1D;
  }
  return adamStepTfjs(state, grad, c);
}

export function momentumStep(state: Tensor1D, grad: Tensor1D, c: MomentumConfig): Tensor1D {
  check(state, grad, MOMENTUM_SLOTS);
  if (webgpuFor(MOMENTUM_STEP, 4 * state.size)) {
    return tf.engine().runKernel(MOMENTUM_STEP, { state, grad }, { ...c }) as Tensor1D;
  }
  return momentumStepTfjs(state, grad, c);
}

/** The same step as TF.js's AdamOptimizer applies it, on the flat state. */
export function adamStepTfjs(state: Tensor1D, grad: Tensor1D, c: AdamConfig): Tensor1D {
  return tf.tidy(() => {
    const [p, m0, v0] = tf.split(state, ADAM_SLOTS);
    const m = tf.add(tf.mul(m0, c.beta1), tf.mul(grad, 1 - c.beta1));
    const v = tf.add(tf.mul(v0, c.beta2), tf.mul(tf.square(grad), 1 - c.beta2));
    const mHat = tf.div(m, 1 - c.beta1 ** c.step);
    const vHat = tf.div(v, 1 - c.beta2 ** c.step);
    const next = tf.sub(p, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), c.epsilon)), c.lr));
    return tf.concat([next, m, v]) as Tensor1D;
  });
}

export function momentumStepTfjs(state: Tensor1D, grad: Tensor1D, c: MomentumConfig): Tensor1D {
  return tf.tidy(() => {
    const [p, v0] = tf.split(state, MOMENTUM_SLOTS);
    const velocity = tf.add(tf.mul(v0, c.momentum), grad);
    return tf.concat([tf.sub(p, tf.mul(velocity, c.lr)), velocity]) as Tensor1D;
  });
}
