/**
 * Lines for LineChart.svelte, and the metric lines of a job by its task.
 */
import type { TaskKind, VersionMetrics } from '@gridtab/shared';
import { formatLoss, formatPercent } from '../format.ts';

/** A line of LineChart.svelte: values aligned with the chart's x values. */
export interface Series {
  label: string;
  values: (number | null)[];
  /** A CSS variable of the theme, such as --accent. */
  color: string;
  format: (v: number) => string;
  /** Series with the same scale share one y axis (default: the label, an axis each). */
  scale?: string;
}

/**
 * The metric lines of a job's versions, by task: test accuracy and loss for classification,
 * test R² and RMSE (in the targets' units) for regression. Jobs from before tasks were
 * recorded are classification.
 */
export function metricSeries(task: TaskKind | undefined, versions: { metrics: VersionMetrics }[]): Series[] {
  if (task === 'regression')
    return [
      {
        label: 'Test R²',
        values: versions.map((v) => v.metrics.testR2 ?? null),
        color: '--accent',
        format: (v) => v.toFixed(3),
      },
      {
        label: 'Test RMSE',
        values: versions.map((v) => v.metrics.testRmse ?? null),
        color: '--danger',
        format: (v) => formatLoss(v),
      },
    ];
  return [
    {
      label: 'Test accuracy',
      values: versions.map((v) => v.metrics.testAccuracy),
      color: '--accent',
      format: (v) => formatPercent(v),
    },
    {
      label: 'Test loss',
      values: versions.map((v) => v.metrics.testLoss),
      color: '--danger',
      format: (v) => formatLoss(v),
    },
  ];
}

/** A job's or version's headline score as text: accuracy in percent, or R² for regression. */
export function formatScore(task: TaskKind | undefined, m: VersionMetrics): string {
  if (task === 'regression')
    return m.testR2 == null || !Number.isFinite(m.testR2) ? '—' : `R² ${m.testR2.toFixed(3)}`;
  return formatPercent(m.testAccuracy);
}
