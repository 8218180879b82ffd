/**
 * The three things the coordinator asks TF.js to do with a model spec that came from outside
 * (job and sweep creation, model import, model export's weight manifest): build it, read its
 * shapes and its initial weights. Plain functions of their input, so they run the same in a
 * worker thread (build-worker.ts) or in the calling thread (tests, tools). Only data crosses:
 * shapes, names and flat weights, never a tf.LayersModel.
 */
import { GridTabError } from '@gridtab/shared';
import { buildModel, getFlatWeights, paramCount } from '@gridtab/shared/tf';
import { initTf, tf } from '../evaluation/tf-node.ts';

type Shape = (number | null)[];
export type Topology = Record<string, unknown>;

export type BuildTask =
  | { kind: 'check'; topology: Topology }
  | { kind: 'weight-specs'; topology: Topology }
  | {
      kind: 'import';
      topology: Topology;
      weightSpecs: tf.io.WeightsManifestEntry[];
      /** Owned by the task: transferred to the worker. */
      weightData: ArrayBuffer;
    };

/** A built spec: per-sample input and output shapes, the parameter count, round-0 weights. */
export interface Checked {
  inputs: Shape[];
  outputs: Shape[];
  params: number;
  weights: Float32Array;
}

export interface WeightSpecs {
  specs: { name: string; shape: number[]; dtype: 'float32' }[];
  inputShape: Shape;
}

export interface Imported {
  inputs: number;
  outputs: number;
  params: number;
  /** The topology as this TF.js serialises it, so exports are what this TF.js builds. */
  topology: Topology;
  weights: Float32Array;
}

export interface BuildResults {
  check: Checked;
  'weight-specs': WeightSpecs;
  import: Imported;
}

const perSample = (shapes: tf.SymbolicTensor[]) => shapes.map((t) => t.shape.slice(1));

async function built(topology: Topology): Promise<tf.LayersModel> {
  try {
    return await buildModel(topology);
  } catch (e) {
    throw new GridTabError('INVALID_MODEL_SPEC', `the model spec does not build: ${(e as Error).message}`);
  }
}

export async function runBuildTask<K extends BuildTask['kind']>(
  task: Extract<BuildTask, { kind: K }>,
): Promise<BuildResults[K]>;
export async function runBuildTask(task: BuildTask): Promise<BuildResults[BuildTask['kind']]> {
  await initTf();
  if (task.kind === 'import') {
    let model: tf.LayersModel;
    try {
      model = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: task.topology,
          weightSpecs: task.weightSpecs,
          weightData: task.weightData,
        }),
      );
    } catch (e) {
      throw new GridTabError('INVALID_MODEL_SPEC', `the model does not load: ${(e as Error).message}`);
    }
    try {
      return {
        inputs: model.inputs.length,
        outputs: model.outputs.length,
        params: paramCount(model),
        topology: model.toJSON(null, false) as unknown as Topology,
        weights: await getFlatWeights(model),
      };
    } finally {
      model.dispose();
    }
  }
  const model = await built(task.topology);
  try {
    if (task.kind === 'weight-specs')
      return {
        // originalName: `name` gets a numeric suffix when a layer name repeats in one thread.
        specs: model.weights.map((w) => ({
          name: w.originalName,
          shape: w.shape as number[],
          dtype: 'float32' as const,
        })),
        inputShape: model.inputs[0].shape.slice(1),
      };
    const params = paramCount(model);
    return {
      inputs: perSample(model.inputs),
      outputs: perSample(model.outputs),
      params,
      // No weights for a model past any cap: the caller refuses it by its count.
      weights: params <= MAX_BUILT_PARAMS ? await getFlatWeights(model) : new Float32Array(0),
    };
  } finally {
    model.dispose();
  }
}

/** The most parameters whose weights are read back (the import cap; jobs allow fewer). */
const MAX_BUILT_PARAMS = 16_000_000;
