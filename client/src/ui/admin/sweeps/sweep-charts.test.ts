import type { SweepView, TrialView } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { curveChart, scatterCharts } from './sweep-charts.ts';

const trial = (index: number, params: Record<string, unknown>, accs: number[]): TrialView => ({
  id: `t${index}`,
  index,
  params,
  status: 'completed',
  jobId: `j${index}`,
  rung: 0,
  error: null,
  curve: accs.map((a, i) => ({ round: i + 1, testAccuracy: a, testLoss: 1 - a, samples: 100 * (i + 1) })),
  best: accs.length ? { versionId: `v${index}`, round: accs.length, value: Math.max(...accs) } : null,
  samples: 100 * accs.length,
  deviceSeconds: null,
  repro: null,
  reruns: [],
});

const sweep = {
  metric: 'testAccuracy',
  space: {
    'hyperparameters.learningRate': { type: 'log', min: 0.001, max: 0.1 },
    model: { type: 'choice', values: ['fashion-mlp', 'fashion-cnn'] },
  },
  trials: [
    trial(0, { 'hyperparameters.learningRate': 0.01, model: 'fashion-cnn' }, [0.5, 0.7]),
    trial(1, { 'hyperparameters.learningRate': 0.002, model: 'fashion-mlp' }, [0.6]),
    trial(2, { 'hyperparameters.learningRate': 0.05, model: 'fashion-mlp' }, []),
  ],
} as unknown as SweepView;

describe('sweep charts', () => {
  it('aligns every trial curve on rounds, with gaps where a trial stopped', () => {
    const { x, series } = curveChart(sweep);
    expect(x).toEqual([1, 2]);
    expect(series.map((s) => s.values)).toEqual([
      [0.5, 0.7],
      [0.6, null],
      [null, null],
    ]);
  });

  it('plots the best metric against each parameter; text values by index', () => {
    const [lr, model] = scatterCharts(sweep);
    expect(lr).toMatchObject({ x: [0.002, 0.01], y: [0.6, 0.7], log: true, categories: null });
    expect(model).toMatchObject({ categories: ['fashion-cnn', 'fashion-mlp'], x: [0, 1], y: [0.7, 0.6] });
  });
});
