/**
 * Model presets that fit a dataset version, for the job and sweep forms. The shipped Fashion
 * presets are offered when the version's shape fits them; for any version a small MLP is
 * generated from its schema (input shape, output units = classes or targets, softmax or linear),
 * and for image-shaped inputs a small CNN. Parameter counts are worked out from the topology
 * so the console does not need to build the model with TF.js to show them.
 */
import {
  type DatasetSchema,
  MODEL_PRESETS,
  type ModelPresetName,
  type ModelTopology,
  type TaskSpec,
  taskOutputs,
} from '@gridtab/shared';

export interface ModelPreset {
  id: string;
  label: string;
  model: ModelTopology;
  params: number;
  /** Hyperparameters that suit it: a CNN trains slower per sample. */
  batchSize: number;
  localSteps: number;
}

/** What presets need to know of a dataset version. */
export type PresetTarget = Pick<DatasetSchema, 'inputShape' | 'task'>;

type Layer = { class_name: string; config: Record<string, unknown> };

const pair = (v: unknown): [number, number] =>
  Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)];

/**
 * Trainable parameters of a Sequential topology of Dense, Conv2D, pooling, Flatten and Dropout
 * layers (the kinds the presets use); null when a layer is of another kind.
 */
export function countParams(topology: ModelTopology): number | null {
  const layers = (topology.config as { layers?: Layer[] }).layers ?? [];
  let shape = ((layers[0]?.config.batch_input_shape as (number | null)[]) ?? []).slice(1) as number[];
  let total = 0;
  for (const { class_name: kind, config: c } of layers) {
    const bias = c.use_bias !== false;
    if (kind === 'Dense') {
      const units = Number(c.units);
      total += shape.at(-1)! * units + (bias ? units : 0);
      shape = [...shape.slice(0, -1), units];
    } else if (kind === 'Conv2D') {
      const [kh, kw] = pair(c.kernel_size);
      const [sh, sw] = pair(c.strides ?? 1);
      const filters = Number(c.filters);
      const [h, w, ch] = shape;
      total += kh * kw * ch * filters + (bias ? filters : 0);
      const same = c.padding === 'same';
      shape = [
        same ? Math.ceil(h / sh) : Math.floor((h - kh) / sh) + 1,
        same ? Math.ceil(w / sw) : Math.floor((w - kw) / sw) + 1,
        filters,
      ];
    } else if (kind === 'MaxPooling2D' || kind === 'AveragePooling2D') {
      const [ph, pw] = pair(c.pool_size ?? 2);
      const [sh, sw] = pair(c.strides ?? c.pool_size ?? 2);
      const same = c.padding === 'same';
      shape = [
        same ? Math.ceil(shape[0] / sh) : Math.floor((shape[0] - ph) / sh) + 1,
        same ? Math.ceil(shape[1] / sw) : Math.floor((shape[1] - pw) / sw) + 1,
        shape[2],
      ];
    } else if (kind === 'Flatten') {
      shape = [shape.reduce((a, b) => a * b, 1)];
    } else if (kind !== 'Dropout') return null;
  }
  return total;
}

const outputLayer = (task: TaskSpec): Layer => ({
  class_name: 'Dense',
  config: {
    units: taskOutputs(task),
    activation: task.kind === 'classification' ? 'softmax' : 'linear',
    name: 'output',
  },
});

/** Input, one hidden layer (wider for wide inputs), output for the task. */
export function generatedMlp(target: PresetTarget): ModelTopology {
  const inputs = target.inputShape.reduce((a, b) => a * b, 1);
  const hidden = inputs > 64 ? 128 : 64;
  const input = { batch_input_shape: [null, ...target.inputShape] };
  const layers: Layer[] =
    target.inputShape.length > 1
      ? [
          { class_name: 'Flatten', config: { name: 'flatten', ...input } },
          { class_name: 'Dense', config: { units: hidden, activation: 'relu', name: 'hidden' } },
        ]
      : [{ class_name: 'Dense', config: { units: hidden, activation: 'relu', name: 'hidden', ...input } }];
  return { class_name: 'Sequential', config: { name: 'mlp', layers: [...layers, outputLayer(target.task)] } };
}

/** Image-shaped: [height, width, channels] of at least 10x10, room for two 3x3 conv + 2x2 pool. */
export function isImageShaped(shape: number[]): boolean {
  return shape.length === 3 && shape[0] >= 10 && shape[1] >= 10 && shape[2] <= 4;
}

/** Two 3x3 conv + 2x2 max-pool blocks (8, then 16 filters), flatten, output. */
export function generatedCnn(target: PresetTarget): ModelTopology {
  const conv = (name: string, filters: number, extra: object = {}): Layer => ({
    class_name: 'Conv2D',
    config: {
      filters,
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: 'valid',
      activation: 'relu',
      name,
      ...extra,
    },
  });
  const pool = (name: string): Layer => ({
    class_name: 'MaxPooling2D',
    config: { pool_size: [2, 2], strides: [2, 2], padding: 'valid', name },
  });
  return {
    class_name: 'Sequential',
    config: {
      name: 'cnn',
      layers: [
        conv('conv1', 8, { batch_input_shape: [null, ...target.inputShape] }),
        pool('pool1'),
        conv('conv2', 16),
        pool('pool2'),
        { class_name: 'Flatten', config: { name: 'flatten' } },
        outputLayer(target.task),
      ],
    },
  };
}

const shapeText = (shape: number[]) => shape.join('×');

function preset(id: string, label: string, model: ModelTopology, cnn: boolean): ModelPreset {
  return {
    id,
    label,
    model,
    params: countParams(model) ?? 0,
    batchSize: cnn ? 32 : 64,
    localSteps: cnn ? 20 : 50,
  };
}

/** The shipped Fashion-MNIST presets ([28, 28, 1] in, 10 classes out). */
const BUILTIN_LABELS: Record<ModelPresetName, string> = {
  'fashion-mlp': 'MLP (784-128-10)',
  'fashion-cnn': 'CNN (two conv + pool, dense 64)',
  'fashion-cnn-small': 'small CNN (quick demos)',
};

export const BUILTIN_PRESETS: ModelPreset[] = (Object.keys(BUILTIN_LABELS) as ModelPresetName[]).map((id) =>
  preset(id, BUILTIN_LABELS[id], MODEL_PRESETS[id], id !== 'fashion-mlp'),
);

/** Presets that fit a dataset version; the first is the default. */
export function presetsFor(target: PresetTarget): ModelPreset[] {
  const out: ModelPreset[] = [];
  const fashionShaped =
    shapeText(target.inputShape) === '28×28×1' &&
    target.task.kind === 'classification' &&
    target.task.numClasses === 10;
  if (fashionShaped) out.push(...BUILTIN_PRESETS);
  const outputs = taskOutputs(target.task);
  const head =
    target.task.kind === 'classification' ? `${outputs} classes, softmax` : `${outputs} targets, linear`;
  const mlp = generatedMlp(target);
  const hidden = (mlp.config as { layers: Layer[] }).layers.at(-2)!.config.units;
  out.push(preset('mlp', `MLP (${shapeText(target.inputShape)} → ${hidden} → ${head})`, mlp, false));
  if (isImageShaped(target.inputShape))
    out.push(
      preset('cnn', `Small CNN (${shapeText(target.inputShape)} → ${head})`, generatedCnn(target), true),
    );
  return out;
}
