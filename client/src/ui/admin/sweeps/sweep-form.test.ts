import { describe, expect, it } from 'vitest';
import { EXAMPLE_SWEEP, toSweepSpec } from './sweep-form.ts';

describe('sweep form', () => {
  it('accepts the example and resolves the base model preset', () => {
    const r = toSweepSpec(JSON.stringify(EXAMPLE_SWEEP));
    expect(r.ok).toBe(true);
    if (r.ok) expect(typeof r.spec.base.model).toBe('object');
  });

  it('refuses with the code the API would give', () => {
    const bad = { ...EXAMPLE_SWEEP, budget: { maxTrials: 0 } };
    expect(toSweepSpec(JSON.stringify(bad))).toMatchObject({ ok: false, message: /^INVALID_BUDGET: / });
    expect(toSweepSpec('{')).toMatchObject({ ok: false, message: /^BAD_REQUEST: / });
    const unknown = {
      ...EXAMPLE_SWEEP,
      space: { 'hyperparameters.momentum': { type: 'choice', values: [1] } },
    };
    expect(toSweepSpec(JSON.stringify(unknown))).toMatchObject({
      ok: false,
      message: /^UNKNOWN_PARAMETER: /,
    });
  });
});
