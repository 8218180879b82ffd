/**
 * The TF.js layers format in and out of the registry. Export: a version's topology plus one
 * weights manifest whose single path, `weights.bin`, is the version's flat float32 blob (the
 * flat layout is already `model.weights` order, row-major, which is what the manifest means).
 * Import: a model.json and its weight bytes, checked by building the model with TF.js (in a
 * build worker, model-build/), then flattened into GridTab's layout.
 */
import {
  checkModelSpec,
  DEFAULT_SPEC_LIMITS,
  GridTabError,
  type Normalization,
  type TaskSpec,
} from '@gridtab/shared';
import type { tf } from '../evaluation/tf-node.ts';
import { inThreadBuilder, type ModelBuilder, type WeightSpecs } from '../model-build/model-builder.ts';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface LayersModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  userDefinedMetadata: { gridtab: GridTabMetadata };
}

/** What the SDK reads beside the topology; plain TF.js ignores it. */
export interface GridTabMetadata {
  model: string;
  versionId: string;
  /** sha256 of weights.bin, so a loader can verify before using the bytes. */
  hash: string;
  /** Bytes of weights.bin: a shorter download is truncated. */
  weightBytes: number;
  /** Per-sample input shape, e.g. [28, 28, 1]. */
  inputShape: (number | null)[];
  labels: string[] | null;
  /** `name@version` of the dataset version the model trained on; null for an imported model. */
  dataset: string | null;
  task: TaskSpec | null;
  /** Apply to inputs before predict (and map regression outputs back) exactly as in training. */
  normalization: Normalization | null;
  classNames: string[] | null;
  targetNames: string[] | null;
}

const specCache = new Map<string, Promise<WeightSpecs>>();

/** Weight names and shapes in `model.weights` order; built once per topology and cached. */
export function weightSpecs(topology: Record<string, unknown>, builder: ModelBuilder = inThreadBuilder) {
  const key = JSON.stringify(topology);
  let hit = specCache.get(key);
  if (!hit) {
    hit = builder.run({ kind: 'weight-specs', topology });
    hit.catch(() => specCache.delete(key));
    specCache.set(key, hit);
  }
  return hit;
}

export async function toModelJson(
  topology: Record<string, unknown>,
  meta: Omit<GridTabMetadata, 'inputShape'>,
  builder?: ModelBuilder,
): Promise<LayersModelJson> {
  const { specs, inputShape } = await weightSpecs(topology, builder);
  return {
    format: 'layers-model',
    generatedBy: 'GridTab registry',
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
    userDefinedMetadata: { gridtab: { ...meta, inputShape } },
  };
}

/** Largest model that can be imported (fp32 values). */
export const MAX_IMPORT_PARAMS = 16_000_000;

/**
 * Checks an uploaded TF.js layers model (model.json's object and the concatenated bytes of its
 * weight files, in manifest order) and returns its topology and GridTab-flat weights.
 */
export async function importLayersModel(
  modelJson: { modelTopology?: unknown; weightsManifest?: unknown },
  weightData: Uint8Array,
  builder: ModelBuilder = inThreadBuilder,
): Promise<{ topology: Record<string, unknown>; weights: Float32Array }> {
  const topology = modelJson.modelTopology as Record<string, unknown> | undefined;
  const manifest = modelJson.weightsManifest as { weights: tf.io.WeightsManifestEntry[] }[] | undefined;
  if (!topology || typeof topology !== 'object' || !Array.isArray(manifest))
    throw new GridTabError('INVALID_MODEL_SPEC', 'model.json needs modelTopology and weightsManifest');
  const weightSpecsIn = manifest.flatMap((g) => g.weights ?? []);
  for (const w of weightSpecsIn)
    if (w.dtype !== undefined && w.dtype !== 'float32')
      throw new GridTabError(
        'INVALID_MODEL_SPEC',
        `weight ${w.name} is ${w.dtype}; only float32 is imported`,
      );
  const expectedBytes = weightSpecsIn.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (expectedBytes !== weightData.byteLength)
    throw new GridTabError(
      'WEIGHTS_MISMATCH',
      `the manifest describes ${expectedBytes} bytes of weights; ${weightData.byteLength} arrived`,
    );
  // Costed from its configs before TF.js allocates anything for it.
  checkModelSpec(topology, { ...DEFAULT_SPEC_LIMITS, maxParams: MAX_IMPORT_PARAMS });
  const model = await builder.run({
    kind: 'import',
    topology,
    weightSpecs: weightSpecsIn,
    weightData: weightData.slice().buffer,
  });
  if (model.inputs !== 1 || model.outputs !== 1)
    throw new GridTabError('INVALID_MODEL_SPEC', 'only models with one input and one output are served');
  if (model.params > MAX_IMPORT_PARAMS)
    throw new GridTabError('INVALID_MODEL_SPEC', `more than ${MAX_IMPORT_PARAMS} parameters`);
  return { topology: model.topology, weights: model.weights };
}
