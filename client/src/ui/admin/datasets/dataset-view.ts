/**
 * What the Datasets page shows, derived from a DatasetVersionView: the format guessed from a
 * file name, the class balance as bars, the preview lines of a version, and how numbers read.
 * Pure functions, so the page stays markup and the rules are tested here.
 */
import type { DatasetFormat, DatasetVersionView } from '@gridtab/shared';

/** Extensions of each format, longest first where one ends another (.tar.gz before .gz). */
const EXTENSIONS: [string, DatasetFormat][] = [
  ['.csv', 'csv'],
  ['.csv.gz', 'csv'],
  ['.tsv', 'tsv'],
  ['.tab', 'tsv'],
  ['.tsv.gz', 'tsv'],
  ['.parquet', 'parquet'],
  ['.pq', 'parquet'],
  ['.npz', 'npz'],
  ['.zip', 'images'],
  ['.tar', 'images'],
  ['.tar.gz', 'images'],
  ['.tgz', 'images'],
  ['-ubyte', 'idx'],
  ['-ubyte.gz', 'idx'],
  ['.idx', 'idx'],
];

/** The format a file name suggests, or null when its extension says nothing we import. */
export function guessFormat(fileName: string): DatasetFormat | null {
  const lower = fileName.toLowerCase();
  const hit = EXTENSIONS.filter(([ext]) => lower.endsWith(ext)).sort((a, b) => b[0].length - a[0].length)[0];
  return hit ? hit[1] : null;
}

/** A dataset name suggested by a file name: its stem, lowercased, reduced to the allowed characters. */
export function nameFromFile(fileName: string): string {
  const stem = fileName.replace(/(\.(csv|tsv|tab|parquet|pq|npz|zip|tar|tgz|idx|gz))+$/i, '');
  return stem
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64);
}

export const isTabular = (format: DatasetFormat) =>
  format === 'csv' || format === 'tsv' || format === 'parquet';

export const FORMAT_LABELS: Record<DatasetFormat, string> = {
  csv: 'CSV',
  tsv: 'TSV',
  parquet: 'Parquet',
  npz: 'NumPy .npz',
  images: 'Image archive (.zip/.tar, a folder per class)',
  idx: 'IDX (MNIST style)',
};

export interface ClassBar {
  name: string;
  train: number;
  test: number;
}

/** Samples per class in the version's class order (then any other names the counts hold). */
export function classBalance(v: Pick<DatasetVersionView, 'schema' | 'stats'>): ClassBar[] {
  const counts = v.stats.classCounts;
  if (!counts) return [];
  const names = [
    ...(v.schema.classNames ?? []),
    ...Object.keys({ ...counts.train, ...counts.test }).filter((n) => !v.schema.classNames?.includes(n)),
  ];
  return names.map((name) => ({ name, train: counts.train[name] ?? 0, test: counts.test[name] ?? 0 }));
}

/** Largest over smallest class count (train), the usual imbalance ratio; null without classes. */
export function imbalance(bars: ClassBar[]): number | null {
  const sizes = bars.map((b) => b.train).filter((n) => n > 0);
  if (sizes.length === 0) return null;
  return Math.max(...sizes) / Math.min(...sizes);
}

/** Statistics read at a glance: 4 significant digits, exponent form for very large or small. */
export function formatStat(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e6 || a < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(4)).toString();
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** One line on what a version is: task, shape, rows, and the label column. */
export function summary(v: Pick<DatasetVersionView, 'task' | 'schema' | 'splits'>): string {
  const task =
    v.task.kind === 'classification'
      ? `classification, ${v.task.numClasses} classes`
      : `regression, ${v.task.numTargets} target${v.task.numTargets === 1 ? '' : 's'}`;
  const label = v.schema.labelColumn ? ` · label ${v.schema.labelColumn}` : '';
  return `${task} · input ${v.schema.inputShape.join('×')} (${v.schema.inputDtype}) · ${v.splits.train} train / ${v.splits.test} test rows${label}`;
}

/** The features the preview lists: the first `n` names, and how many more there are. */
export function firstFeatures(
  v: Pick<DatasetVersionView, 'schema'>,
  n = 12,
): { names: string[]; more: number } {
  const all = v.schema.featureNames ?? [];
  return { names: all.slice(0, n), more: Math.max(0, all.length - n) };
}

export const datasetHref = (name: string, version?: number) =>
  `#/datasets/${encodeURIComponent(name)}${version ? `@${version}` : ''}`;
