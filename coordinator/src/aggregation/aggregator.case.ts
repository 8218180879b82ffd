/** Cases every Aggregator must pass, whatever its rule. */
import { describe, expect, it } from 'vitest';
import type { Aggregator } from './aggregator.ts';

export function aggregatorSuite(make: () => Aggregator) {
  describe(`Aggregator: ${make().name}`, () => {
    it('returns the base plus the update when there is one update', () => {
      const out = make().aggregate(Float32Array.of(1, 2, 3), [
        { delta: Float32Array.of(0.5, -1, 0), numSamples: 10 },
      ]);
      expect(Array.from(out)).toEqual([1.5, 1, 3]);
    });

    it('refuses updates of the wrong length and an empty round', () => {
      expect(() =>
        make().aggregate(Float32Array.of(1, 2), [{ delta: Float32Array.of(1), numSamples: 1 }]),
      ).toThrow();
      expect(() => make().aggregate(Float32Array.of(1, 2), [])).toThrow();
    });

    it('does not depend on the order updates arrive in', () => {
      const base = Float32Array.of(0, 0, 0, 0);
      const ups = [1, 2, 3].map((k) => ({ delta: Float32Array.of(k, -k, k * 0.1, 0), numSamples: k * 7 }));
      const a = make().aggregate(base, ups);
      const b = make().aggregate(base, [...ups].reverse());
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 6);
    });
  });
}
