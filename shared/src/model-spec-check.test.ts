import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkModelSpec } from './model-spec-check.ts';
import { MODEL_PRESETS } from './models.ts';
import { paramCount } from './tf.ts';

/** What TF.js itself says: the checker must agree with it on every model it accepts. */
function tfCount(model: tf.LayersModel) {
  const topology = model.toJSON(null, false) as unknown as Record<string, unknown>;
  const summary = checkModelSpec(topology);
  const expected = {
    params: paramCount(model),
    outputShape: model.outputs[0].shape.slice(1),
    inputShape: model.inputs[0].shape.slice(1),
  };
  model.dispose();
  return { summary, expected };
}

describe('checkModelSpec', () => {
  it('counts the presets as TF.js does', async () => {
    for (const preset of Object.values(MODEL_PRESETS)) {
      const model = await tf.models.modelFromJSON({ modelTopology: preset } as unknown as tf.io.ModelJSON);
      const { summary, expected } = tfCount(model);
      expect(summary).toMatchObject(expected);
    }
  });

  it('counts every supported layer kind as TF.js does', () => {
    const image = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, strides: 2, padding: 'same' }),
        tf.layers.batchNormalization(),
        tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }),
        tf.layers.separableConv2d({ kernelSize: [3, 2], filters: 7, dilationRate: 1 }),
        tf.layers.averagePooling2d({ poolSize: 2 }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.layerNormalization(),
        tf.layers.reshape({ targetShape: [-1, 7] }),
        tf.layers.conv1d({ filters: 4, kernelSize: 2 }),
        tf.layers.maxPooling1d({ poolSize: 2 }),
        tf.layers.globalAveragePooling1d(),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.dense({ units: 10, useBias: false }),
      ],
    });
    const a = tfCount(image);
    expect(a.summary).toMatchObject(a.expected);
    const text = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 500, outputDim: 16, inputLength: 20 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const b = tfCount(text);
    expect(b.summary).toMatchObject(b.expected);
    const input = tf.input({ shape: [12] });
    const hidden = tf.layers.dense({ units: 5 }).apply(input) as tf.SymbolicTensor;
    const output = tf.layers.dense({ units: 2 }).apply(hidden) as tf.SymbolicTensor;
    const c = tfCount(tf.model({ inputs: input, outputs: output }));
    expect(c.summary).toMatchObject(c.expected);
  });

  it('names the layer and field it refuses', () => {
    const mlp = structuredClone(MODEL_PRESETS['fashion-mlp']) as unknown as {
      config: { layers: { config: Record<string, unknown> }[] };
    };
    mlp.config.layers[1].config.units = 1_000_000;
    expect(() => checkModelSpec(mlp)).toThrow(
      /layer 1 \(Dense '.*'\): units must be an integer in \[1, 1000000\]|parameters/,
    );
    mlp.config.layers[1].config.units = 100_000;
    expect(() => checkModelSpec(mlp)).toThrow(
      /layer 1 \(Dense .*78500000 parameters here; the limit is 4000000/,
    );
    mlp.config.layers[1].config.units = 16;
    mlp.config.layers[1].config.kernel_initializer = { class_name: 'Constant', config: { value: 1e38 } };
    expect(() => checkModelSpec(mlp)).toThrow(/kernel_initializer\.config\.value: 1e\+38 is out of range/);
  });
});
