/**
 * Costly but legal model specs: each passes the cost check (shared/src/model-spec-check.ts) just
 * under the 4M-parameter job cap and fits the Fashion-MNIST dataset, so the coordinator must
 * really build it with TF.js (16 MB of initial weights each). An attacker with an admin token,
 * or an admin who means well, can send these all day; `bench:abuse` sends them beside the hostile
 * table to show that building them does not stall the event loop (model-build/ runs them in a
 * worker), and one test sends one through the real build pool.
 */
import type { ModelTopology } from '@gridtab/shared';

export interface CostlySpec {
  name: string;
  model: ModelTopology;
  /** Parameters, as the cost check counts them (the test asserts it). */
  params: number;
}

const INPUT = [null, 28, 28, 1];
const dense = (units: number, activation = 'relu') => ({
  class_name: 'Dense',
  config: { units, activation },
});
const sequential = (layers: unknown[]) =>
  ({ class_name: 'Sequential', config: { layers } }) as unknown as ModelTopology;

export const COSTLY_SPECS: CostlySpec[] = [
  {
    // 784 x 5000 + 5000 + 5000 x 10 + 10
    name: 'widest MLP under the cap (one Dense of 5000)',
    model: sequential([
      { class_name: 'Flatten', config: { batch_input_shape: INPUT } },
      dense(5000),
      dense(10, 'softmax'),
    ]),
    params: 3_975_010,
  },
  {
    // Many layers: TF.js's per-layer overhead (names, weights, initializers) 57 times over.
    name: 'deep MLP (56 Dense of 256)',
    model: sequential([
      { class_name: 'Flatten', config: { batch_input_shape: INPUT } },
      ...Array.from({ length: 56 }, () => dense(256)),
      dense(10, 'softmax'),
    ]),
    params: 784 * 256 + 256 + 55 * (256 * 256 + 256) + 256 * 10 + 10,
  },
  {
    // Wide convolutions: 28 x 28 x 256 activations per sample, 3x3 kernels of 256 x 256.
    name: 'wide CNN (Conv2D 256 filters x 7)',
    model: sequential([
      {
        class_name: 'Conv2D',
        config: {
          filters: 256,
          kernel_size: [3, 3],
          padding: 'same',
          activation: 'relu',
          batch_input_shape: INPUT,
        },
      },
      ...Array.from({ length: 6 }, () => ({
        class_name: 'Conv2D',
        config: { filters: 256, kernel_size: [3, 3], padding: 'same', activation: 'relu' },
      })),
      { class_name: 'GlobalAveragePooling2D', config: {} },
      dense(10, 'softmax'),
    ]),
    params: 9 * 256 + 256 + 6 * (9 * 256 * 256 + 256) + 256 * 10 + 10,
  },
];
