/** The Aggregator a job's `aggregation` spec names. */
import type { AggregationSpec } from '@gridtab/shared';
import type { Aggregator } from './aggregator.ts';
import { CenteredClip } from './centered-clip.ts';
import { Median } from './median.ts';
import { TrimmedMean } from './trimmed-mean.ts';
import { WeightedMean } from './weighted-mean.ts';

export function aggregatorFor(spec: AggregationSpec): Aggregator {
  switch (spec.rule) {
    case 'mean':
      return new WeightedMean();
    case 'trimmed-mean':
      return new TrimmedMean(spec.trim);
    case 'median':
      return new Median();
    case 'centered-clip':
      return new CenteredClip(spec.radius, spec.iterations);
  }
}
