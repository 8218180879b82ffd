/**
 * Model presets that ship with GridTab: TF.js layers topologies for Fashion-MNIST, both taking
 * [batch, 28, 28, 1] inputs scaled to [0, 1] and giving 10 softmax outputs.
 */

import type { ModelTopology } from './job.ts';
import cnn from './models/fashion-cnn.json' with { type: 'json' };
import mlp from './models/fashion-mlp.json' with { type: 'json' };

export const MODEL_PRESETS = {
  'fashion-mlp': mlp as ModelTopology,
  'fashion-cnn': cnn as ModelTopology,
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
