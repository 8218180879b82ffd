import { budgetSchema } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { zeroCounters } from '../storage/usage-records.ts';
import { budgetStatus, crossedFractions, estimateCost } from './cost.ts';
import { groupUsage } from './report.ts';
import { priceTableSchema } from './usage-config.ts';

const HOUR = 3_600_000;

describe('cost and budgets', () => {
  it('prices GPU and CPU hours, GB moved and GB-months held; the cloud equivalent counts GPU hours', () => {
    const prices = priceTableSchema.parse({
      gpuHour: 0.5,
      cpuHour: 0.05,
      gbTransferred: 0.09,
      gbMonthStored: 0.02,
      cloudGpuHour: 2,
    });
    const usage = {
      ...zeroCounters(),
      gpuMs: 2 * HOUR,
      cpuDeviceMs: 10 * HOUR,
      bytesDown: 3e9,
      bytesUp: 1e9,
    };
    const cost = estimateCost(usage, 5e9, 15 * 24 * HOUR, prices);
    expect(cost.compute).toBeCloseTo(2 * 0.5 + 10 * 0.05, 12);
    expect(cost.transfer).toBeCloseTo(4 * 0.09, 12);
    expect(cost.storage).toBeCloseTo(5 * 0.5 * 0.02, 12); // half a month
    expect(cost.total).toBeCloseTo(1.5 + 0.36 + 0.05, 12);
    expect(cost.cloudGpuEquivalent).toBe(4);
  });

  it('reaches a limit at spent >= limit, names every limit reached, and reports the fractions crossed', () => {
    const budget = budgetSchema.parse({ deviceHours: 1, samples: 1000, bytes: 100, alertAt: [0.5, 0.8, 1] });
    const spending = (samples: number, ms: number) => ({
      usage: { ...zeroCounters(), samples, cpuDeviceMs: ms, bytesUp: 10 },
      storageBytes: 0,
      wallTimeMs: 0,
      cost: null,
    });
    const under = budgetStatus(budget, spending(999, 0.85 * HOUR));
    expect(under).toMatchObject({ state: 'ok', reason: null });
    expect(crossedFractions(budget, under)).toEqual({ deviceHours: 0.8, samples: 0.8 });
    const over = budgetStatus(budget, spending(1000, HOUR));
    expect(over).toMatchObject({
      state: 'exceeded',
      reason: 'budget reached: deviceHours 1 of 1, samples 1000 of 1000',
    });
    expect(over.limits.bytes).toEqual({ spent: 10, limit: 100 });
  });

  it('groups rows by day, job or contributor, summing counters', () => {
    const row = (day: string, jobId: string, contributorId: string, samples: number) => ({
      ...zeroCounters(),
      day,
      jobId,
      contributorId,
      samples,
      gpuMs: HOUR,
    });
    const rows = [
      row('2026-01-02', 'j1', 'a', 1),
      row('2026-01-01', 'j1', 'b', 2),
      row('2026-01-02', 'j2', 'a', 4),
    ];
    expect(groupUsage(rows, 'day').map((l) => [l.key, l.samples, l.deviceHours])).toEqual([
      ['2026-01-01', 2, 1],
      ['2026-01-02', 5, 2],
    ]);
    expect(groupUsage(rows, 'job').map((l) => [l.key, l.samples])).toEqual([
      ['j1', 3],
      ['j2', 4],
    ]);
    expect(groupUsage(rows, 'contributor').map((l) => [l.key, l.samples])).toEqual([
      ['a', 5],
      ['b', 2],
    ]);
  });
});
