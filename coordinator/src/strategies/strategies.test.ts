import { describe, expect, it } from 'vitest';
import { stalenessWeight } from './buffered.ts';
import { strategyFor } from './index.ts';
import { strategySuite } from './strategy.case.ts';

const mean = { rule: 'mean' } as const;
const buffered = { name: 'buffered', bufferSize: 4, maxStaleness: 4, stalenessExponent: 0.5 } as const;
const diloco = { name: 'diloco', outerLearningRate: 0.7, outerMomentum: 0.9, weightDecay: 0 } as const;

strategySuite('fedavg + mean', () => strategyFor({ name: 'fedavg' }, mean));
strategySuite('buffered + mean', () => strategyFor(buffered, mean));
strategySuite('buffered + median', () => strategyFor(buffered, { rule: 'median' }));
strategySuite('diloco + mean', () => strategyFor(diloco, mean));
strategySuite('diloco + trimmed-mean', () => strategyFor(diloco, { rule: 'trimmed-mean', trim: 0.2 }));

describe('buffered', () => {
  it('scales a stale update by (1 + s)^-exponent', () => {
    expect(stalenessWeight(0, 0.5)).toBe(1);
    expect(stalenessWeight(3, 0.5)).toBe(0.5);
    const s = strategyFor({ ...buffered, stalenessExponent: 1 }, mean);
    const { weights } = s.apply(
      Float32Array.of(0),
      [{ delta: Float32Array.of(4), numSamples: 1, staleness: 3 }],
      null,
    );
    expect(weights[0]).toBeCloseTo(1, 6);
  });

  it('with every update fresh it is exactly fedavg', () => {
    const ups = [1, 2].map((k) => ({ delta: Float32Array.of(k, -k), numSamples: k, staleness: 0 }));
    const a = strategyFor(buffered, mean).apply(Float32Array.of(1, 1), ups, null).weights;
    const b = strategyFor({ name: 'fedavg' }, mean).apply(Float32Array.of(1, 1), ups, null).weights;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('keeps the robust rule orthogonal: a median ignores one wild update', () => {
    const ups = [1, 1.1, 0.9, 1000].map((v) => ({ delta: Float32Array.of(v), numSamples: 1, staleness: 0 }));
    const { weights } = strategyFor(buffered, { rule: 'median' }).apply(Float32Array.of(0), ups, null);
    expect(weights[0]).toBeLessThan(2);
  });
});

describe('diloco', () => {
  it('takes a Nesterov step on minus the mean delta and carries the momentum', () => {
    const s = strategyFor(diloco, mean);
    const one = s.apply(
      Float32Array.of(0),
      [{ delta: Float32Array.of(1), numSamples: 1, staleness: 0 }],
      null,
    );
    // g = -1, m = -1, w = 0 - 0.7 * (-1 + 0.9 * -1) = 1.33
    expect(one.weights[0]).toBeCloseTo(1.33, 5);
    expect(one.state?.[0]).toBeCloseTo(-1, 6);
    const two = s.apply(one.weights, [{ delta: Float32Array.of(1), numSamples: 1, staleness: 0 }], one.state);
    // m = 0.9 * -1 - 1 = -1.9; w = 1.33 - 0.7 * (-1 - 1.71) = 3.227
    expect(two.state?.[0]).toBeCloseTo(-1.9, 5);
    expect(two.weights[0]).toBeCloseTo(3.227, 4);
  });

  it('with no momentum and outer lr 1 it is fedavg', () => {
    const ups = [1, 3].map((k) => ({ delta: Float32Array.of(k, 2 * k), numSamples: k, staleness: 0 }));
    const plain = { ...diloco, outerLearningRate: 1, outerMomentum: 0 };
    const a = strategyFor(plain, mean).apply(Float32Array.of(0.5, 0.5), ups, null).weights;
    const b = strategyFor({ name: 'fedavg' }, mean).apply(Float32Array.of(0.5, 0.5), ups, null).weights;
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 6);
  });

  it('refuses a momentum buffer of another size', () => {
    const s = strategyFor(diloco, mean);
    expect(() =>
      s.apply(
        Float32Array.of(0, 0),
        [{ delta: Float32Array.of(1, 1), numSamples: 1, staleness: 0 }],
        Float32Array.of(1),
      ),
    ).toThrow();
  });
});
