/**
 * The job form's values and their translation into a job spec. Validation is the shared
 * jobSpecSchema itself, so the form refuses exactly what the coordinator would refuse; its
 * issues are reworded with the form's own field labels so the message points at a field.
 * The model comes from the presets that fit the chosen dataset version (model-presets.ts), and
 * the task of that version decides the stopping target (accuracy or R²) and the loss.
 */
import {
  type AggregationSpec,
  type CodecName,
  type DatasetVersionView,
  formatDatasetRef,
  type JobSpecInput,
  jobSpecSchema,
  type OPTIMIZERS,
  type RegressionLoss,
  type STRATEGIES,
  type TaskKind,
} from '@gridtab/shared';
import { BUILTIN_PRESETS, type ModelPreset, presetsFor } from './model-presets.ts';

export interface JobFormValues {
  name: string;
  /** Id of a preset among those offered for the dataset (model-presets.ts). */
  preset: string;
  /** Dataset name; with `datasetVersion` null the job takes the latest version at creation. */
  dataset: string;
  datasetVersion: number | null;
  task: TaskKind;
  /** Regression only. */
  loss: RegressionLoss;
  targetR2: number | null;
  strategy: (typeof STRATEGIES)[number];
  optimizer: (typeof OPTIMIZERS)[number];
  /** How updates travel; top-k sends `topkFraction` of the entries. */
  codec: CodecName;
  topkFraction: number | null;
  /** How a round's updates are combined; trimmed-mean drops `trim` at each end. */
  aggregation: AggregationSpec['rule'];
  trim: number | null;
  /** Number inputs give null when empty or not a number. */
  batchSize: number | null;
  localSteps: number | null;
  learningRate: number | null;
  unitsPerRound: number | null;
  quorum: number | null;
  /** Fixed units, units sized to each tab's measured speed, or to a training time (rounds.unitSizing). */
  unitSizing: 'fixed' | 'speed' | 'time';
  maxRounds: number | null;
  /** Percent, optional. */
  targetAccuracyPercent: number | null;
}

export const CODEC_LABELS: Record<CodecName, string> = {
  fp32: 'fp32 (exact)',
  fp16: 'fp16 (half the bytes)',
  int8: 'int8 by block (a quarter)',
  topk: 'top-k (largest entries only)',
};

/** Every rule the job spec accepts, in the form's order. */
export const AGGREGATION_RULES = [
  'mean',
  'trimmed-mean',
  'median',
  'centered-clip',
] as const satisfies readonly AggregationSpec['rule'][];

export const AGGREGATION_LABELS: Record<AggregationSpec['rule'], string> = {
  mean: 'mean (FedAvg)',
  'trimmed-mean': 'trimmed mean',
  median: 'median',
  'centered-clip': 'centered clipping',
};

/** Presets fill the hyperparameters that suit them; the CNN trains slower per sample. */
export function defaultsFor(preset = 'fashion-mlp', presets: ModelPreset[] = BUILTIN_PRESETS): JobFormValues {
  const p = presets.find((x) => x.id === preset) ?? presets[0];
  return {
    name: preset === 'fashion-mlp' ? 'Fashion-MNIST MLP' : 'Fashion-MNIST CNN',
    preset: p.id,
    dataset: 'fashion-mnist',
    datasetVersion: null,
    task: 'classification',
    loss: 'mse',
    targetR2: null,
    strategy: 'fedavg',
    optimizer: 'adam',
    codec: 'fp32',
    topkFraction: 0.01,
    aggregation: 'mean',
    trim: 0.2,
    batchSize: p.batchSize,
    localSteps: p.localSteps,
    learningRate: 0.001,
    unitsPerRound: 3,
    quorum: 1,
    unitSizing: 'fixed',
    maxRounds: 30,
    targetAccuracyPercent: null,
  };
}

/** Defaults for a dataset version: its first fitting preset (or `preset`), its task. */
export function defaultsForDataset(
  version: Pick<DatasetVersionView, 'name' | 'version' | 'schema'>,
  preset?: string,
): JobFormValues {
  const presets = presetsFor(version.schema);
  const base = defaultsFor(preset ?? presets[0].id, presets);
  const p = presets.find((x) => x.id === base.preset)!;
  return {
    ...base,
    name: `${version.name} ${p.id.replace(/^fashion-/, '').toUpperCase()}`,
    dataset: version.name,
    datasetVersion: version.version,
    task: version.schema.task.kind,
  };
}

const LABELS: Record<string, string> = {
  name: 'Name',
  dataset: 'Dataset',
  strategy: 'Strategy',
  'hyperparameters.batchSize': 'Batch size',
  'hyperparameters.localSteps': 'Local steps',
  'hyperparameters.learningRate': 'Learning rate',
  'hyperparameters.optimizer': 'Optimizer',
  'rounds.unitsPerRound': 'Units per round',
  'rounds.quorum': 'Quorum',
  'stopping.maxRounds': 'Max rounds',
  'stopping.targetAccuracy': 'Target accuracy',
  'stopping.targetR2': 'Target R²',
  'hyperparameters.loss': 'Loss',
  'codec.fraction': 'Top-k fraction',
  'aggregation.trim': 'Trim fraction',
};

function codecOf(v: JobFormValues): JobSpecInput['codec'] {
  if (v.codec === 'topk') return { name: 'topk', fraction: v.topkFraction ?? Number.NaN };
  return { name: v.codec };
}

function aggregationOf(v: JobFormValues): JobSpecInput['aggregation'] {
  if (v.aggregation === 'trimmed-mean') return { rule: 'trimmed-mean', trim: v.trim ?? Number.NaN };
  return { rule: v.aggregation };
}

export type FormResult = { ok: true; spec: JobSpecInput } | { ok: false; message: string };

export function toJobSpec(v: JobFormValues, presets: ModelPreset[] = BUILTIN_PRESETS): FormResult {
  const preset = presets.find((p) => p.id === v.preset);
  if (!preset) return { ok: false, message: 'Model: choose a model that fits the dataset' };
  const regression = v.task === 'regression';
  const missing = (
    [
      ['Batch size', v.batchSize],
      ['Local steps', v.localSteps],
      ['Learning rate', v.learningRate],
      ['Units per round', v.unitsPerRound],
      ['Quorum', v.quorum],
      ['Max rounds', v.maxRounds],
    ] as const
  ).filter(([, n]) => n === null || !Number.isFinite(n));
  if (missing.length > 0)
    return { ok: false, message: `${missing.map(([l]) => l).join(', ')}: enter a number` };
  const spec: JobSpecInput = {
    name: v.name,
    model: preset.model,
    dataset: v.datasetVersion === null ? v.dataset : formatDatasetRef(v.dataset, v.datasetVersion),
    strategy: v.strategy,
    codec: codecOf(v),
    aggregation: aggregationOf(v),
    hyperparameters: {
      batchSize: v.batchSize!,
      localSteps: v.localSteps!,
      learningRate: v.learningRate!,
      optimizer: v.optimizer,
      ...(regression ? { loss: v.loss } : {}),
    },
    rounds: {
      unitsPerRound: v.unitsPerRound!,
      quorum: v.quorum!,
      ...(v.unitSizing !== 'fixed' ? { unitSizing: v.unitSizing } : {}),
    },
    stopping: {
      maxRounds: v.maxRounds!,
      ...(!regression && v.targetAccuracyPercent !== null
        ? { targetAccuracy: v.targetAccuracyPercent / 100 }
        : {}),
      ...(regression && v.targetR2 !== null ? { targetR2: v.targetR2 } : {}),
    },
  };
  const parsed = jobSpecSchema.safeParse(spec);
  if (parsed.success) return { ok: true, spec };
  const message = parsed.error.issues
    .map((i) => {
      const path = i.path.join('.');
      const label = LABELS[path] ?? path;
      // Target accuracy is entered in percent; say the limit the way it was typed.
      const text = path === 'stopping.targetAccuracy' ? 'must be above 0% and at most 100%' : i.message;
      return `${label}: ${text}`;
    })
    .join('; ');
  return { ok: false, message };
}
