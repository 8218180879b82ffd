/**
 * What the Sweeps page draws, derived from GET /api/sweeps/:id: the curve of every trial (the
 * metric by round) and, per parameter, the metric each trial reached against its value.
 * Text parameters (a model preset, an optimizer) are placed at the index of their value.
 */
import type { SweepView } from '@gridtab/shared';
import type { Series } from '../chart-series.ts';

const COLORS = ['--accent', '--ok', '--danger', '--muted', '--text'];

export function curveChart(sweep: SweepView): { x: number[]; series: Series[] } {
  const trials = sweep.trials ?? [];
  const last = Math.max(0, ...trials.map((t) => t.curve.at(-1)?.round ?? 0));
  const x = Array.from({ length: last }, (_, i) => i + 1);
  const pct = sweep.metric === 'testAccuracy';
  return {
    x,
    series: trials.map((t, i) => ({
      label: `#${t.index}`,
      values: x.map((r) => t.curve.find((p) => p.round === r)?.[sweep.metric] ?? null),
      color: COLORS[i % COLORS.length],
      format: (v: number) => (pct ? `${(v * 100).toFixed(1)}%` : v.toFixed(3)),
    })),
  };
}

export interface Scatter {
  path: string;
  /** Ascending x, each with the best metric of the trials at that value (null where none). */
  x: number[];
  y: (number | null)[];
  log: boolean;
  /** Labels of text values, by index; null for numeric parameters. */
  categories: string[] | null;
}

export function scatterCharts(sweep: SweepView): Scatter[] {
  const trials = (sweep.trials ?? []).filter((t) => t.best);
  return Object.entries(sweep.space).map(([path, space]) => {
    const raw = trials.map((t) => t.params[path]);
    const numeric = raw.every((v) => typeof v === 'number');
    const categories = numeric ? null : [...new Set(raw.map((v) => label(v)))];
    const points = trials
      .map((t) => ({
        x: numeric ? (t.params[path] as number) : categories!.indexOf(label(t.params[path])),
        y: t.best!.value,
      }))
      .sort((a, b) => a.x - b.x);
    return {
      path,
      x: points.map((p) => p.x),
      y: points.map((p) => p.y),
      log: (space as { type: string }).type === 'log',
      categories,
    };
  });
}

function label(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v).slice(0, 24);
}
