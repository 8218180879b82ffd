/** Each attack of the harness does what it says to a delta (no coordinator needed). */
import type { WorkUnit } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { type DeltaAttack, tamperWith } from './attacks.ts';
import { unitIndex } from './index.ts';

const unit = { unitId: 'job-1.r3.u4' } as WorkUnit;
const delta = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 0.01);
const norm = (v: Float32Array) => Math.hypot(...v);

describe('attacks', () => {
  it('each changes the delta as named', () => {
    const run = (a: DeltaAttack, opts = {}) => tamperWith(a, opts)(delta, unit);
    expect(Array.from(run('sign-flip'))).toEqual(Array.from(delta, (v) => -v));
    expect(run('scaled', { scale: -10 })[7]).toBeCloseTo(-10 * delta[7], 6);
    const noise = run('noise', { sigma: 0.5, seed: 3 });
    const std = Math.sqrt(noise.reduce((s, v) => s + v * v, 0) / noise.length);
    expect(std).toBeGreaterThan(0.4);
    expect(std).toBeLessThan(0.6);
    expect(run('nan').some(Number.isNaN)).toBe(true);
    expect(run('wrong-shape').length).toBe(delta.length - 1);
    expect(run('lazy').every((v) => v === 0)).toBe(true);
    expect(norm(run('over-norm'))).toBeGreaterThan(1e9);
    expect(delta[0]).toBe(0); // the honest delta itself is left alone
    expect(delta[1]).toBeCloseTo(Math.sin(1) * 0.01, 6);
  });

  it('reads the unit index from a unit id', () => {
    expect(unitIndex(unit)).toBe(4);
    expect(unitIndex({ unitId: 'a.b.r10.u12' } as WorkUnit)).toBe(12);
  });
});
