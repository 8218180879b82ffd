/** Cases every Strategy must pass, whatever it is and whatever rule it wraps. */
import { describe, expect, it } from 'vitest';
import type { Strategy, StrategyUpdate } from './strategy.ts';

const up = (values: number[], numSamples = 10, staleness = 0): StrategyUpdate => ({
  delta: Float32Array.from(values),
  numSamples,
  staleness,
});

export function strategySuite(label: string, make: () => Strategy) {
  describe(`Strategy: ${label}`, () => {
    it('moves the weights along a single fresh update', () => {
      const base = Float32Array.of(1, 2, 3);
      const { weights } = make().apply(base, [up([0.5, -1, 0.25])], null);
      const moved = Array.from(weights, (w, i) => w - base[i]);
      const c = moved[0] / 0.5;
      expect(c).toBeGreaterThan(0);
      expect(moved[1]).toBeCloseTo(-c, 5);
      expect(moved[2]).toBeCloseTo(0.25 * c, 5);
    });

    it('refuses updates of the wrong length and an empty set', () => {
      expect(() => make().apply(Float32Array.of(1, 2), [up([1])], null)).toThrow();
      expect(() => make().apply(Float32Array.of(1, 2), [], null)).toThrow();
    });

    it('does not depend on the order updates arrive in', () => {
      const base = Float32Array.of(0, 1, 0, -1);
      const ups = [1, 2, 3].map((k) => up([k, -k, k * 0.1, 0], k * 7, k % 2));
      const a = make().apply(base, ups, null).weights;
      const b = make().apply(base, [...ups].reverse(), null).weights;
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 6);
    });

    it('continues exactly from its persisted state (a restart between versions)', () => {
      const base = Float32Array.of(0.5, -0.5, 2);
      const first = [up([0.1, 0.2, -0.3]), up([0.3, 0, -0.1], 20)];
      const second = [up([-0.2, 0.1, 0.4], 5)];
      const s = make();
      const one = s.apply(base, first, null);
      const two = s.apply(one.weights, second, one.state);
      // What the scheduler stores and reads back: the state's bytes, in a fresh instance.
      const stored = one.state ? new Float32Array(new Uint8Array(one.state.buffer.slice(0)).buffer) : null;
      const resumed = make().apply(one.weights, second, stored);
      expect(Array.from(resumed.weights)).toEqual(Array.from(two.weights));
      expect(resumed.state && Array.from(resumed.state)).toEqual(two.state && Array.from(two.state));
    });

    it('keeps finite updates finite and leaves the inputs untouched', () => {
      const base = Float32Array.of(1e3, -1e3, 0);
      const ups = [up([1e2, -1e2, 1e-8]), up([-5, 5, 0], 3, 2)];
      const copy = ups.map((u) => Array.from(u.delta));
      const { weights } = make().apply(base, ups, null);
      expect(weights.every(Number.isFinite)).toBe(true);
      expect(ups.map((u) => Array.from(u.delta))).toEqual(copy);
      expect(Array.from(base)).toEqual([1e3, -1e3, 0]);
    });
  });
}
