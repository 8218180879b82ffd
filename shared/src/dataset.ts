/**
 * What a dataset version says about itself: its task, schema, statistics, splits and
 * normalization. Generic code (trainer, evaluator, scheduler, SDK, console) reads these and
 * never assumes a shape: no 784 inputs, no 10 classes, no u8 pixels.
 *
 * A dataset has a name and immutable, numbered versions; `name@version` names one. A version's
 * training rows live in content-addressed shards (shard.ts), shared with other versions whose
 * rows are the same, so a tab that cached them downloads only what changed.
 */
import { z } from 'zod';

export const TASK_KINDS = ['classification', 'regression'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const REGRESSION_LOSSES = ['mse', 'huber'] as const;
export type RegressionLoss = (typeof REGRESSION_LOSSES)[number];

export const DATASET_FORMATS = ['csv', 'tsv', 'parquet', 'npz', 'images', 'idx'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** What to do with a missing value in a feature column (a missing label always drops the row). */
export const MISSING_POLICIES = ['refuse', 'drop', 'impute'] as const;
export type MissingPolicy = (typeof MISSING_POLICIES)[number];

/** `name` part of `name@version`: lowercase, safe in URLs, file names and SQL. */
export const DATASET_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const datasetNameSchema = z
  .string()
  .regex(
    DATASET_NAME_RE,
    'a dataset name is 1-64 of a-z, 0-9, ".", "_", "-", starting with a letter or digit',
  );

/** `name` or `name@version` (version a positive integer). */
export const datasetRefSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}(@[1-9][0-9]{0,8})?$/, 'a dataset is named `name` or `name@version`');

export interface DatasetRef {
  name: string;
  /** null: the latest version, resolved when a job is created. */
  version: number | null;
}

export function parseDatasetRef(ref: string): DatasetRef {
  const at = ref.lastIndexOf('@');
  if (at < 0) return { name: ref, version: null };
  return { name: ref.slice(0, at), version: Number(ref.slice(at + 1)) };
}

export function formatDatasetRef(name: string, version: number): string {
  return `${name}@${version}`;
}

/**
 * The task a version's labels define. It decides the loss, the metrics, evaluation, stopping,
 * charts and what the SDK's predict returns.
 */
export type TaskSpec =
  | { kind: 'classification'; numClasses: number }
  | { kind: 'regression'; numTargets: number };

/** How many output units a model for this task must have. */
export function taskOutputs(task: TaskSpec): number {
  return task.kind === 'classification' ? task.numClasses : task.numTargets;
}

export interface DatasetSchema {
  task: TaskSpec;
  /** Per-sample input shape, e.g. [28, 28, 1] for images or [13] for 13 tabular features. */
  inputShape: number[];
  /** How input values are stored in shards (before normalization). */
  inputDtype: 'uint8' | 'float32';
  /** Tabular: one name per input value, after one-hot expansion (`color=red`); else null. */
  featureNames: string[] | null;
  /** Categorical columns one-hot encoded, with their vocabulary in column order. */
  categorical: { column: string; vocabulary: string[] }[];
  /** The column (or array, or folder level) the labels came from. */
  labelColumn: string | null;
  /** Classification: class names, index = class id. */
  classNames: string[] | null;
  /** Regression: target names, one per output. */
  targetNames: string[] | null;
}

/**
 * Applied the same way in training, evaluation and the inference SDK:
 * x' = (x - inputMean) / inputStd along the last input axis (one value per feature or channel;
 * arrays of length 1 apply to all). Regression targets are trained standardized the same way
 * and predictions are mapped back, so targets of any scale train with the same learning rates.
 */
export interface Normalization {
  inputMean: number[];
  inputStd: number[];
  targetMean: number[] | null;
  targetStd: number[] | null;
  /**
   * 'mean': the shards hold NaN for missing input values (the impute policy), which readers
   * replace by the train mean, i.e. by 0 after normalization (tf.ts normalizeInputs). Absent:
   * inputs hold no NaN. Imputing at read time keeps shards free of the mean, which any edit moves.
   */
  imputation?: 'mean';
}

export interface FeatureStats {
  name: string;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Values missing in the file (imputed or dropped by the missing-value policy). */
  missing: number;
}

/** Where a quality finding is: any of file (archive entry), row (1-based, as in the file), column. */
export interface DataPlace {
  file?: string;
  row?: number;
  column?: string;
  entry?: string;
}

/** A problem found at import: refused (an error code) or reported (a warning), by policy. */
export interface QualityIssue {
  code: string;
  message: string;
  where?: DataPlace;
  /** How many rows or entries it concerns, when it is counted rather than one place. */
  count?: number;
}

export interface DatasetStats {
  /** Per input feature (tabular) or per channel (images, tensors). */
  features: FeatureStats[];
  /** Regression: per target. */
  targets: FeatureStats[] | null;
  /** Classification: samples per class name, per split. */
  classCounts: { train: Record<string, number>; test: Record<string, number> } | null;
  /** Rows that repeat an earlier row exactly (inputs and label). */
  duplicates: number;
  /** Rows dropped by the missing-value policy. */
  droppedRows: number;
  warnings: QualityIssue[];
}

export interface DatasetSplits {
  /** `file`: the file said which rows are test rows; `hash`: a seeded hash of each row's content. */
  method: 'file' | 'hash';
  /** Hash split: seed and the fraction of rows sent to test. */
  seed: number | null;
  testFraction: number | null;
  train: number;
  test: number;
}

export interface DatasetSource {
  fileName: string;
  format: DatasetFormat;
  bytes: number;
  /** sha256 of the uploaded file. */
  sha256: string;
  importedBy: string;
  importedAt: string;
  /** The import options as given (label column, task, missing policy, image size...). */
  options: Record<string, string>;
}

/** A dataset version as the API returns it. */
export interface DatasetVersionView {
  /** `name@version`. */
  id: string;
  name: string;
  version: number;
  /** sha256 over the version's content (schema, normalization, splits, shard hashes). */
  hash: string;
  task: TaskSpec;
  schema: DatasetSchema;
  stats: DatasetStats;
  splits: DatasetSplits;
  normalization: Normalization;
  source: DatasetSource | null;
  /** The version this one re-imported (same name, previous latest); null for the first. */
  parent: string | null;
  shards: { count: number; bytes: number; testCount: number };
  createdAt: string;
}

export interface DatasetView {
  name: string;
  latest: number;
  versions: number;
  task: TaskSpec;
  createdAt: string;
  updatedAt: string;
}

/** An upload being imported, as the console hears it (`dataset:import`), every few thousand rows. */
export interface DatasetImportProgress {
  /** The dataset name the upload becomes a version of. */
  name: string;
  /** Bytes of the spooled file read so far, and in all; rows taken so far. */
  bytesRead: number;
  bytesTotal: number;
  rows: number;
}

/** Lineage from a dataset version: what was built from it. */
export interface DatasetLineage {
  jobs: { id: string; name: string; status: string }[];
  models: { name: string; version: number; jobId: string; versionId: string }[];
}

/**
 * What a work unit (and the evaluator, and an exported model) needs to turn shard bytes into
 * tensors and score predictions: the task, the input shape and the normalization.
 */
export interface DataSpec {
  /** `name@version` of the dataset version. */
  dataset: string;
  task: TaskSpec;
  inputShape: number[];
  normalization: Normalization;
  /** Regression loss; ignored for classification (categorical cross-entropy). */
  loss: RegressionLoss;
}

/** u8 pixels scaled to [0, 1]: the normalization GridTab always used for images. */
export const PIXEL_NORMALIZATION: Normalization = {
  inputMean: [0],
  inputStd: [255],
  targetMean: null,
  targetStd: null,
};

/** The data spec of a u8 image classification set (Fashion-MNIST and tests' synthetic sets). */
export function imageDataSpec(dataset: string, inputShape: number[], numClasses: number): DataSpec {
  return {
    dataset,
    task: { kind: 'classification', numClasses },
    inputShape,
    normalization: PIXEL_NORMALIZATION,
    loss: 'mse',
  };
}
