/**
 * The data of the correctness suite: every case of every op, in one format. Shapes are chosen to
 * hit tile edges (64 for matmul tiles, 16 for reductions, 4 for vec4 paths), odd sizes, the demo
 * MLP's layers (784-128-10, batch 64), zeros and large magnitudes. Sizes stay small enough for
 * SwiftShader (a CPU) to run the whole suite in seconds.
 */
import type { SuiteCase } from './check.ts';

export const denseCases: SuiteCase[] = [
  {
    op: 'dense',
    name: 'mlp-hidden-784x128-b64',
    fill: 'random',
    params: { batch: 64, inDim: 784, outDim: 128, activation: 'relu' },
  },
  {
    op: 'dense',
    name: 'mlp-out-128x10-b64',
    fill: 'random',
    params: { batch: 64, inDim: 128, outDim: 10, activation: 'linear' },
  },
  {
    op: 'dense',
    name: 'odd-37x29-b5-relu',
    fill: 'random',
    params: { batch: 5, inDim: 37, outDim: 29, activation: 'relu' },
  },
  {
    op: 'dense',
    name: 'tile-edge-65x63-b67',
    fill: 'random',
    params: { batch: 67, inDim: 65, outDim: 63, activation: 'linear' },
  },
  {
    op: 'dense',
    name: 'single-1x1-b1',
    fill: 'random',
    params: { batch: 1, inDim: 1, outDim: 1, activation: 'relu' },
  },
  {
    op: 'dense',
    name: 'zeros-17x9-b3',
    fill: 'zeros',
    params: { batch: 3, inDim: 17, outDim: 9, activation: 'relu' },
  },
  {
    op: 'dense',
    name: 'large-33x70-b9',
    fill: 'large',
    params: { batch: 9, inDim: 33, outDim: 70, activation: 'relu' },
  },
  {
    op: 'dense',
    name: 'ramp-130x3-b2',
    fill: 'ramp',
    params: { batch: 2, inDim: 130, outDim: 3, activation: 'linear' },
  },
  // Big enough for the 64x64-tile variant (>= 64 workgroups) in forward, dX and dW alike.
  {
    op: 'dense',
    name: 'big-tile-520x513-b516',
    fill: 'random',
    heavy: true,
    params: { batch: 516, inDim: 520, outDim: 513, activation: 'relu' },
  },
];

export const softmaxXentCases: SuiteCase[] = [
  {
    op: 'softmax-xent',
    name: 'mlp-64x10-onehot',
    fill: 'random',
    params: { rows: 64, cols: 10, labels: 'onehot' },
  },
  {
    op: 'softmax-xent',
    name: 'wide-3x1000-soft',
    fill: 'random',
    params: { rows: 3, cols: 1000, labels: 'soft' },
  },
  {
    op: 'softmax-xent',
    name: 'odd-7x65-onehot',
    fill: 'ramp',
    params: { rows: 7, cols: 65, labels: 'onehot' },
  },
  { op: 'softmax-xent', name: 'single-1x1', fill: 'random', params: { rows: 1, cols: 1, labels: 'onehot' } },
  { op: 'softmax-xent', name: 'zeros-5x3-soft', fill: 'zeros', params: { rows: 5, cols: 3, labels: 'soft' } },
  {
    op: 'softmax-xent',
    name: 'large-9x17-onehot',
    fill: 'large',
    params: { rows: 9, cols: 17, labels: 'onehot' },
  },
  {
    op: 'softmax-xent',
    name: 'many-rows-300x2-soft',
    fill: 'random',
    params: { rows: 300, cols: 2, labels: 'soft' },
  },
];

export const quantizeCases: SuiteCase[] = [
  { op: 'quantize', name: 'partial-block-1000-bs256', fill: 'random', params: { n: 1000, blockSize: 256 } },
  { op: 'quantize', name: 'single-1-bs4', fill: 'random', params: { n: 1, blockSize: 4 } },
  { op: 'quantize', name: 'odd-words-7-bs4', fill: 'random', params: { n: 7, blockSize: 4 } },
  { op: 'quantize', name: 'many-blocks-4099-bs64', fill: 'random', params: { n: 4099, blockSize: 64 } },
  { op: 'quantize', name: 'zeros-300-bs128', fill: 'zeros', params: { n: 300, blockSize: 128 } },
  { op: 'quantize', name: 'large-513-bs32', fill: 'large', params: { n: 513, blockSize: 32 } },
  { op: 'quantize', name: 'ramp-130-bs8', fill: 'ramp', params: { n: 130, blockSize: 8 } },
  {
    op: 'quantize',
    name: 'ties-half-even-90-bs12',
    fill: 'random',
    params: { n: 90, blockSize: 12, ties: 1 },
  },
  {
    op: 'quantize',
    name: 'mlp-update-101770-bs256',
    fill: 'random',
    heavy: true,
    params: { n: 101770, blockSize: 256 },
  },
];

export const weightedSumCases: SuiteCase[] = [
  { op: 'weighted-sum', name: 'vec4-4096x3', fill: 'random', params: { n: 4096, buffers: 3 } },
  { op: 'weighted-sum', name: 'scalar-1001x2', fill: 'random', params: { n: 1001, buffers: 2 } },
  { op: 'weighted-sum', name: 'single-1x1', fill: 'random', params: { n: 1, buffers: 1 } },
  { op: 'weighted-sum', name: 'chained-130x20', fill: 'random', params: { n: 130, buffers: 20 } },
  { op: 'weighted-sum', name: 'zeros-64x4', fill: 'zeros', params: { n: 64, buffers: 4 } },
  { op: 'weighted-sum', name: 'large-257x5', fill: 'large', params: { n: 257, buffers: 5 } },
  {
    op: 'weighted-sum',
    name: 'mlp-update-101770x8',
    fill: 'random',
    heavy: true,
    params: { n: 101770, buffers: 8 },
  },
];

export const optimizerCases: SuiteCase[] = [
  {
    op: 'optimizer',
    name: 'adam-mlp-101770x3',
    fill: 'random',
    heavy: true,
    params: { n: 101770, kind: 'adam', steps: 3 },
  },
  { op: 'optimizer', name: 'adam-odd-7x2', fill: 'random', params: { n: 7, kind: 'adam', steps: 2 } },
  { op: 'optimizer', name: 'adam-zero-grads-65', fill: 'zeros', params: { n: 65, kind: 'adam', steps: 2 } },
  {
    op: 'optimizer',
    name: 'adam-large-grads-300',
    fill: 'large',
    params: { n: 300, kind: 'adam', steps: 3 },
  },
  {
    op: 'optimizer',
    name: 'momentum-mlp-101770x3',
    fill: 'random',
    heavy: true,
    params: { n: 101770, kind: 'momentum', steps: 3 },
  },
  {
    op: 'optimizer',
    name: 'momentum-single-1',
    fill: 'random',
    params: { n: 1, kind: 'momentum', steps: 4 },
  },
  {
    op: 'optimizer',
    name: 'momentum-large-129',
    fill: 'large',
    params: { n: 129, kind: 'momentum', steps: 2 },
  },
];

export const topkCases: SuiteCase[] = [
  { op: 'topk', name: 'one-percent-10000-k100', fill: 'random', params: { n: 10000, k: 100 } },
  { op: 'topk', name: 'odd-1001-k37', fill: 'random', params: { n: 1001, k: 37 } },
  { op: 'topk', name: 'ties-130-k20', fill: 'ramp', params: { n: 130, k: 20 } },
  { op: 'topk', name: 'zeros-64-k5', fill: 'zeros', params: { n: 64, k: 5 } },
  { op: 'topk', name: 'large-257-k1', fill: 'large', params: { n: 257, k: 1 } },
  { op: 'topk', name: 'all-9-k9', fill: 'random', params: { n: 9, k: 9 } },
  { op: 'topk', name: 'none-9-k0', fill: 'random', params: { n: 9, k: 0 } },
  {
    op: 'topk',
    name: 'mlp-update-101770-k1017',
    fill: 'random',
    heavy: true,
    params: { n: 101770, k: 1017 },
  },
];
