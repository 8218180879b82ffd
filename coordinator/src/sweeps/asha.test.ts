import { describe, expect, it } from 'vitest';
import { decideRung } from './asha.ts';

const entries = (values: (number | null)[]) =>
  values.map((value, index) => ({ id: `t${index}`, index, value }));

describe('ASHA rung decision', () => {
  it('keeps the top 1/eta (at least one) by accuracy, higher is better', () => {
    expect(decideRung(entries([0.5, 0.8, 0.7, 0.6]), 2, 'testAccuracy')).toEqual({
      promote: ['t1', 't2'],
      stop: ['t3', 't0'],
    });
    expect(decideRung(entries([0.5, 0.8]), 3, 'testAccuracy').promote).toEqual(['t1']);
  });

  it('keeps the lowest loss; missing or non-finite values rank last; ties go to the earlier trial', () => {
    expect(decideRung(entries([Number.NaN, 0.4, null, 0.4, 0.9, 2]), 3, 'testLoss')).toEqual({
      promote: ['t1', 't3'],
      stop: ['t4', 't5', 't0', 't2'],
    });
  });
});
