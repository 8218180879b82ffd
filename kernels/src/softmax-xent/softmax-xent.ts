/**
 * Softmax cross-entropy ops: `softmaxCrossEntropy` gives the mean loss and its gradient w.r.t.
 * the logits in one kernel on webgpu (TF.js sequence elsewhere); `softmaxCrossEntropyLoss` wraps
 * it as a differentiable scalar so a training step's autodiff reuses the gradient the forward
 * pass already produced instead of running softmax again.
 *
 * The loss is the layers API's categorical cross-entropy on softmax outputs, probability clipping
 * included, so that training through it gives the same update as training the model's softmax
 * layer with that loss (the fused path is an optimisation and must not change the math). Per row,
 * with p = softmax(z), c_j = clip(p_j, min, max) and kept_j = [min <= p_j <= max]:
 *   loss_row = -sum_j y_j log c_j
 *   d loss_row / d z_k = p_k * sum_j y_j kept_j - y_k kept_k
 * (clipByValue passes no gradient where it clips, so a clipped p_j drops y_j from both terms:
 * a confidently wrong row, p_y < min, contributes nothing). Both are divided by rows for the mean.
 */

import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { webgpuFor } from '../registry.ts';
import { SOFTMAX_XENT } from './softmax-xent-kernel.ts';

/** Keras's and TF.js layers' epsilon (tf.backend().epsilon() for float32). */
export const DEFAULT_EPSILON = 1e-7;

export interface SoftmaxXent {
  /** Mean over rows of -sum_j labels_j log clip(softmax(logits)_j, min, max). */
  loss: Scalar;
  /** d loss / d logits. */
  grad: Tensor2D;
}

/**
 * The clip bounds as the float32 values the comparisons use: TF.js compares a float32 tensor with
 * its bounds as float32 scalars, and 1 - 1e-7 is 0.99999988 there. Throws on bounds that do not
 * leave a non-empty range inside [0, 1].
 */
export function clipBounds(eps: number, maxProb: number): { min: number; max: number } {
  const min = Math.fround(eps);
  const max = Math.fround(maxProb);
  if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && min < max && max <= 1)) {
    throw new Error(`softmaxCrossEntropy: need 0 <= eps < maxProb <= 1, got eps ${eps}, maxProb ${maxProb}`);
  }
  return { min, max };
}

/**
 * logits, labels: [rows, classes]; labels are one-hot or any non-negative distribution.
 * Probabilities are clipped to [eps, maxProb]: the default [1e-7, 1 - 1e-7] is the layers API's
 * categoricalCrossentropy; eps 0 with maxProb 1 is the unclipped loss.
 */
export function softmaxCrossEntropy(
  logits: Tensor2D,
  labels: Tensor2D,
  eps = DEFAULT_EPSILON,
  maxProb = 1 - eps,
): SoftmaxXent {
  if (logits.rank !== 2 || !tf.util.arraysEqual(logits.shape, labels.shape)) {
    throw new Error(
      `softmaxCrossEntropy: logits ${logits.shape} and labels ${labels.shape} must be equal 2-D`,
    );
  }
  const { min, max } = clipBounds(eps, maxProb);
  const [rows, cols] = logits.shape;
  if (webgpuFor(SOFTMAX_XENT, 4 * (logits.size + rows))) {
    return tf.tidy(() => {
      const packed = tf.engine().runKernel(SOFTMAX_XENT, { logits, labels }, { min, max }) as Tensor;
      const grad = tf.reshape(tf.slice(packed, 0, rows * cols), [rows, cols]) as Tensor2D;
      const loss = tf.mean(tf.slice(packed, rows * cols, rows)) as Scalar;
      return { loss, grad };
    });
  }
  return softmaxCrossEntropyTfjs(logits, labels, eps, maxProb);
}

/**
 * The TF.js sequence, loss and gradient written out with its ops (the formulas at the top of this
 * file). Not tf.valueAndGrad of the layers loss: this also serves as the forward of our custom
 * gradient, where a nested gradient tape is not allowed.
 */
export function softmaxCrossEntropyTfjs(
  logits: Tensor2D,
  labels: Tensor2D,
  eps = DEFAULT_EPSILON,
  maxProb = 1 - eps,
): SoftmaxXent {
  const { min, max } = clipBounds(eps, maxProb);
  return tf.tidy(() => {
    // tf.softmax, as the model's softmax layer computes it: the mask must see the same p.
    const p = tf.softmax(logits);
    const kept = tf.logicalAnd(tf.greaterEqual(p, min), tf.lessEqual(p, max));
    // Unclipped entries in log space (exact for tiny p), clipped ones at the bound's log.
    const logC = tf.where(kept, tf.logSoftmax(logits), tf.log(tf.clipByValue(p, min, max)));
    const loss = tf.mean(tf.neg(tf.sum(tf.mul(labels, logC), 1))) as Scalar;
    const yKept = tf.where(kept, labels, tf.zerosLike(labels));
    const grad = tf.div(tf.sub(tf.mul(p, tf.sum(yKept, 1, true)), yKept), logits.shape[0]) as Tensor2D;
    return { loss, grad };
  });
}

/** Differentiable mean softmax cross-entropy whose backward pass is the fused kernel's gradient. */
export function softmaxCrossEntropyLoss(
  logits: Tensor2D,
  labels: Tensor2D,
  eps = DEFAULT_EPSILON,
  maxProb = 1 - eps,
): Scalar {
  const f = tf.customGrad(((z: Tensor, save: tf.GradSaveFunc) => {
    const { loss, grad } = softmaxCrossEntropy(z as Tensor2D, labels, eps, maxProb);
    save([grad]);
    return { value: loss, gradFunc: (dy: Tensor, saved: Tensor[]) => tf.mul(dy, saved[0]) };
  }) as Parameters<typeof tf.customGrad>[0]);
  return f(logits) as Scalar;
}
