/**
 * Row mapping at the store's read boundary: a job stored before aggregation rules existed reads
 * back with the schema's default rule, so no reader needs a fallback of its own.
 */
import { describe, expect, it } from 'vitest';
import { toJob } from './rows.ts';

const row = (spec: Record<string, unknown>) => ({
  id: 'j1',
  name: 'old',
  spec: JSON.stringify(spec),
  status: 'running',
  round: 3,
  version_id: null,
  created_at: '2026-01-01T00:00:00.000Z',
});

describe('toJob', () => {
  it("gives a job stored without an aggregation rule the schema's default", () => {
    expect(toJob(row({ dataset: 'fashion-mnist' })).spec.aggregation).toEqual({ rule: 'mean' });
  });

  it('keeps the rule a job was stored with', () => {
    const aggregation = { rule: 'trimmed-mean', trim: 0.2 };
    expect(toJob(row({ dataset: 'fashion-mnist', aggregation })).spec.aggregation).toEqual(aggregation);
  });
});
