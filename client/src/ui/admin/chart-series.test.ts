import { describe, expect, it } from 'vitest';
import { formatScore, metricSeries } from './chart-series.ts';

const versions = [
  { metrics: { testAccuracy: null, testLoss: 0.9, testR2: 0.41, testMae: 3, testRmse: 4.2 } },
  { metrics: { testAccuracy: null, testLoss: 0.5, testR2: 0.78, testMae: 2, testRmse: 3.1 } },
];

describe('metric lines by task', () => {
  it('plots R² and RMSE for regression, accuracy and loss for classification', () => {
    const reg = metricSeries('regression', versions);
    expect(reg.map((s) => [s.label, s.values])).toEqual([
      ['Test R²', [0.41, 0.78]],
      ['Test RMSE', [4.2, 3.1]],
    ]);
    const cls = metricSeries('classification', [{ metrics: { testAccuracy: 0.8, testLoss: 0.6 } }]);
    expect(cls.map((s) => [s.label, s.values])).toEqual([
      ['Test accuracy', [0.8]],
      ['Test loss', [0.6]],
    ]);
    // Jobs from before tasks were recorded are classifiers.
    expect(metricSeries(undefined, []).map((s) => s.label)).toEqual(['Test accuracy', 'Test loss']);
  });

  it('formats the headline score by task', () => {
    expect(formatScore('regression', versions[1].metrics)).toBe('R² 0.780');
    expect(formatScore('regression', { testAccuracy: 0.9, testLoss: 1 })).toBe('—');
    expect(formatScore('classification', { testAccuracy: 0.873, testLoss: 1 })).toBe('87.3%');
  });
});
