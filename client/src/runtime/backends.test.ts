/**
 * Which models make a webgpu tab verify the conv and pooling kernels before training: any with
 * a convolution or pooling layer, also inside a nested model; a dense-only model never does.
 */
import { MODEL_PRESETS } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { usesConvKernels } from './backends.ts';

const spec = (m: unknown) => m as Record<string, unknown>;

describe('usesConvKernels', () => {
  it('is true for the CNN presets and false for the MLP', () => {
    expect(usesConvKernels(spec(MODEL_PRESETS['fashion-cnn']))).toBe(true);
    expect(usesConvKernels(spec(MODEL_PRESETS['fashion-cnn-small']))).toBe(true);
    expect(usesConvKernels(spec(MODEL_PRESETS['fashion-mlp']))).toBe(false);
  });

  it('finds a pooling layer inside a nested model', () => {
    const nested = {
      class_name: 'Sequential',
      config: {
        layers: [
          { class_name: 'Sequential', config: { layers: [{ class_name: 'MaxPooling2D', config: {} }] } },
          { class_name: 'Dense', config: { units: 10 } },
        ],
      },
    };
    expect(usesConvKernels(nested)).toBe(true);
    expect(usesConvKernels({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense' }] } })).toBe(
      false,
    );
  });
});
