/**
 * The job form's values and their translation into a job spec. Validation is the shared
 * jobSpecSchema itself, so the form refuses exactly what the coordinator would refuse; its
 * issues are reworded with the form's own field labels so the message points at a field.
 */
import {
  type AggregationSpec,
  type CodecName,
  type JobSpecInput,
  jobSpecSchema,
  MODEL_PRESETS,
  type ModelPresetName,
  type OPTIMIZERS,
  type STRATEGIES,
} from '@gridtab/shared';

export interface JobFormValues {
  name: string;
  preset: ModelPresetName;
  dataset: string;
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

export const PRESET_LABELS: Record<ModelPresetName, string> = {
  'fashion-mlp': 'MLP 784-128-10, 101,770 parameters',
  'fashion-cnn': 'CNN two conv + pool, dense 64, 54,314 parameters',
  'fashion-cnn-small': 'small CNN, 5,258 parameters',
};

/** Presets fill the hyperparameters that suit them; the CNN trains slower per sample. */
export function defaultsFor(preset: ModelPresetName): JobFormValues {
  return {
    name: preset === 'fashion-mlp' ? 'Fashion-MNIST MLP' : 'Fashion-MNIST CNN',
    preset,
    dataset: 'fashion-mnist',
    strategy: 'fedavg',
    optimizer: 'adam',
    codec: 'fp32',
    topkFraction: 0.01,
    aggregation: 'mean',
    trim: 0.2,
    batchSize: preset === 'fashion-mlp' ? 64 : 32,
    localSteps: preset === 'fashion-mlp' ? 50 : 20,
    learningRate: 0.001,
    unitsPerRound: 3,
    quorum: 1,
    maxRounds: 30,
    targetAccuracyPercent: null,
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

export function toJobSpec(v: JobFormValues): FormResult {
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
    model: MODEL_PRESETS[v.preset],
    dataset: v.dataset,
    strategy: v.strategy,
    codec: codecOf(v),
    aggregation: aggregationOf(v),
    hyperparameters: {
      batchSize: v.batchSize!,
      localSteps: v.localSteps!,
      learningRate: v.learningRate!,
      optimizer: v.optimizer,
    },
    rounds: { unitsPerRound: v.unitsPerRound!, quorum: v.quorum! },
    stopping: {
      maxRounds: v.maxRounds!,
      ...(v.targetAccuracyPercent !== null ? { targetAccuracy: v.targetAccuracyPercent / 100 } : {}),
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
