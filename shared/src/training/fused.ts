/**
 * The training loss through GridTab's own kernels (@gridtab/kernels): for a Sequential model
 * made of Flatten and Dense layers (relu or linear inside, softmax last), the forward pass runs
 * as fusedDense per layer and the loss as the fused softmax cross-entropy on the logits. On
 * webgpu these are single WGSL dispatches with fused backward kernels; on other backends the
 * same ops run TF.js sequences. Any other model returns null and trains through model.apply.
 * The loss clips probabilities where the layers path's crossEntropyPerSample does, so a unit
 * trained either way gets the same update (up to float rounding) however confident the model is.
 */
import { fusedDense, softmaxCrossEntropyLoss } from '@gridtab/kernels';
import type * as tf from '@tensorflow/tfjs';
import { PROB_CLIP } from '../tf.ts';

interface DenseStep {
  kernel: tf.Variable;
  bias: tf.Variable;
  activation: 'relu' | 'linear';
}

type LossFn = (x: tf.Tensor, y: tf.Tensor2D) => tf.Scalar;

export function fusedLoss(model: tf.LayersModel): LossFn | null {
  const steps: DenseStep[] = [];
  const layers = model.layers;
  for (const [i, layer] of layers.entries()) {
    const cls = layer.getClassName();
    if (cls === 'Flatten' && i === 0) continue;
    if (cls !== 'Dense') return null;
    const config = layer.getConfig() as { activation?: string; useBias?: boolean };
    const last = i === layers.length - 1;
    const act = config.activation ?? 'linear';
    if (config.useBias === false || layer.trainableWeights.length !== 2) return null;
    if (last ? act !== 'softmax' : act !== 'relu' && act !== 'linear') return null;
    const [kernel, bias] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    steps.push({ kernel, bias, activation: last ? 'linear' : (act as 'relu' | 'linear') });
  }
  if (steps.length === 0) return null;
  return (x, y) => {
    let h = x.reshape([x.shape[0], -1]) as tf.Tensor2D;
    for (const s of steps) h = fusedDense(h, s.kernel as tf.Tensor2D, s.bias as tf.Tensor1D, s.activation);
    return softmaxCrossEntropyLoss(h, y, PROB_CLIP.min, PROB_CLIP.max);
  };
}
