/**
 * Softmax cross-entropy ops: `softmaxCrossEntropy` gives the mean loss and its gradient w.r.t.
 * the logits in one kernel on webgpu (TF.js sequence elsewhere); `softmaxCrossEntropyLoss` wraps
 * it as a differentiable scalar so a training step's autodiff reuses the gradient the forward
 * pass already produced instead of running softmax again.
 */

import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';
import { webgpuFor } from '../registry.ts';
import { SOFTMAX_XENT } from './softmax-xent-kernel.ts';

export interface SoftmaxXent {
  /** Mean over rows of -sum_j labels_j log softmax(logits)_j. */
  loss: Scalar;
  /** d loss / d logits. */
  grad: Tensor2D;
}

/** logits, labels: [rows, classes]; labels are one-hot or any non-negative distribution. */
export function softmaxCrossEntropy(logits: Tensor2D, labels: Tensor2D): SoftmaxXent {
  if (logits.rank !== 2 || !tf.util.arraysEqual(logits.shape, labels.shape)) {
    throw new Error(
      `softmaxCrossEntropy: logits ${logits.shape} and labels ${labels.shape} must be equal 2-D`,
    );
  }
  const [rows, cols] = logits.shape;
  if (webgpuFor(SOFTMAX_XENT, 4 * (logits.size + rows))) {
    return tf.tidy(() => {
      const packed = tf.engine().runKernel(SOFTMAX_XENT, { logits, labels }) as Tensor;
      const grad = tf.reshape(tf.slice(packed, 0, rows * cols), [rows, cols]) as Tensor2D;
      const loss = tf.mean(tf.slice(packed, rows * cols, rows)) as Scalar;
      return { loss, grad };
    });
  }
  return softmaxCrossEntropyTfjs(logits, labels);
}

/**
 * The TF.js sequence, loss and gradient written out with its ops (the same math its loss op and
 * autodiff run). Not tf.losses.softmaxCrossEntropy or tf.valueAndGrad: this also serves as the
 * forward of our custom gradient, where a nested gradient tape is not allowed.
 */
export function softmaxCrossEntropyTfjs(logits: Tensor2D, labels: Tensor2D): SoftmaxXent {
  return tf.tidy(() => {
    const sumY = tf.sum(labels, 1, true);
    const lse = tf.logSumExp(logits, 1, true);
    const loss = tf.mean(tf.sum(tf.mul(labels, tf.sub(lse, logits)), 1)) as Scalar;
    const grad = tf.div(tf.sub(tf.mul(tf.softmax(logits), sumY), labels), logits.shape[0]) as Tensor2D;
    return { loss, grad };
  });
}

/** Differentiable mean softmax cross-entropy whose backward pass is the fused kernel's gradient. */
export function softmaxCrossEntropyLoss(logits: Tensor2D, labels: Tensor2D): Scalar {
  const f = tf.customGrad(((z: Tensor, save: tf.GradSaveFunc) => {
    const { loss, grad } = softmaxCrossEntropy(z as Tensor2D, labels);
    save([grad]);
    return { value: loss, gradFunc: (dy: Tensor, saved: Tensor[]) => tf.mul(dy, saved[0]) };
  }) as Parameters<typeof tf.customGrad>[0]);
  return f(logits) as Scalar;
}
