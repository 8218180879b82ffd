/**
 * The costly-but-legal specs are what their names say: each passes the job cost check, with the
 * parameter count it declares, within 10% of the cap (so bench:abuse really sends the largest
 * models a job may have).
 */
import { checkModelSpec, DEFAULT_SPEC_LIMITS } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { checkSpecCost, MAX_PARAMS } from '../scheduler/jobs.ts';
import { COSTLY_SPECS } from './costly-specs.ts';

describe('costly specs', () => {
  for (const spec of COSTLY_SPECS)
    it(`${spec.name} passes the cost check just under the cap`, () => {
      expect(() => checkSpecCost(spec.model)).not.toThrow();
      const { params } = checkModelSpec(spec.model, { ...DEFAULT_SPEC_LIMITS, maxParams: MAX_PARAMS });
      expect(params).toBe(spec.params);
      expect(params).toBeGreaterThan(0.85 * MAX_PARAMS);
    });
});
