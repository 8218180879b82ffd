/**
 * Model presets that ship with GridTab: TF.js layers topologies for Fashion-MNIST, all taking
 * [batch, 28, 28, 1] inputs scaled to [0, 1] and giving 10 softmax outputs. `fashion-cnn` is
 * sized for ~90% test accuracy (54,314 parameters: conv5x5x8 same, pool, conv5x5x16 same, pool,
 * dense 64, dense 10); `fashion-cnn-small` (5k parameters) is the earlier, quicker one, which
 * stops short of that.
 */

import type { ModelTopology } from './job.ts';
import cnn from './models/fashion-cnn.json' with { type: 'json' };
import cnnSmall from './models/fashion-cnn-small.json' with { type: 'json' };
import mlp from './models/fashion-mlp.json' with { type: 'json' };

export const MODEL_PRESETS = {
  'fashion-mlp': mlp as ModelTopology,
  'fashion-cnn': cnn as ModelTopology,
  'fashion-cnn-small': cnnSmall as ModelTopology,
} as const;

export type ModelPresetName = keyof typeof MODEL_PRESETS;

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;
