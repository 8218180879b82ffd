import { describe, expect, it } from 'vitest';
import { afterRound, planShards, roundPositions, START_QUEUE } from './shard-plan.ts';

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

  it('walks the plan in order when every round aggregates all its units', () => {
    const all = () => new Set([0, 1, 2]);
    expect(roundPositions(1, 3, all)).toEqual([0, 1, 2]);
    expect(roundPositions(5, 3, all)).toEqual([12, 13, 14]);
  });

  it('hands positions a round did not aggregate to the next rounds first, in order', () => {
    const delivered: Record<number, number[]> = { 1: [0, 2], 2: [1], 3: [0, 1, 2] };
    const of = (r: number) => new Set(delivered[r] ?? [0, 1, 2]);
    expect(roundPositions(1, 3, of)).toEqual([0, 1, 2]);
    expect(roundPositions(2, 3, of)).toEqual([1, 3, 4]); // 1 was not aggregated in round 1
    expect(roundPositions(3, 3, of)).toEqual([1, 4, 5]); // round 2 aggregated only 3
    expect(roundPositions(4, 3, of)).toEqual([6, 7, 8]);
    // Every position below the front is aggregated exactly once.
    const aggregated = [1, 2, 3, 4].flatMap((r) => {
      const positions = roundPositions(r, 3, of);
      return [...of(r)].map((i) => positions[i]);
    });
    expect(aggregated.sort((a, b) => a - b)).toEqual(Array.from({ length: 9 }, (_, i) => i));
  });

  it('keeps a backlog longer than a round for the rounds after it', () => {
    const q = afterRound({ carried: [0, 1, 2, 3], next: 9 }, 2, new Set([1]));
    expect(q).toEqual({ carried: [0, 2, 3], next: 9 });
    expect(afterRound(START_QUEUE, 2, new Set())).toEqual({ carried: [0, 1], next: 2 });
  });
});
