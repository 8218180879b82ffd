import { describe, expect, it } from 'vitest';
import { planShards } from './shard-plan.ts';

describe('shard plan', () => {
  it('gives every shard to exactly one unit in each pass over the data', () => {
    const plan = planShards(12, 100, 300, 5); // 3 shards a unit, 4 units a pass
    expect(plan.shardsPerUnit).toBe(3);
    for (const pass of [0, 1, 2]) {
      const seen = [0, 1, 2, 3].flatMap((u) => plan.shardsFor(pass * 4 + u));
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    }
  });

  it('is the same for the same seed and differs across seeds and epochs', () => {
    const a = planShards(50, 1000, 5000, 1);
    const b = planShards(50, 1000, 5000, 1);
    const c = planShards(50, 1000, 5000, 2);
    expect(a.shardsFor(3)).toEqual(b.shardsFor(3));
    expect(a.shardsFor(3)).not.toEqual(c.shardsFor(3));
    expect(a.shardsFor(0)).not.toEqual(a.shardsFor(10)); // unit 10 starts the second epoch
  });

  it('never asks for more shards than exist', () => {
    expect(planShards(4, 100, 10_000, 1).shardsPerUnit).toBe(4);
    expect(planShards(4, 100, 1, 1).shardsPerUnit).toBe(1);
  });
});
