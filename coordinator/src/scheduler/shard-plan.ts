/**
 * Deterministic shard placement: every unit of every round gets the same shards on every run
 * and after a restart. The shard order is a seeded permutation per epoch, and units walk it in
 * sequence, so each pass over the data gives every shard to exactly one unit.
 */
import { mulberry32 } from '@gridtab/shared';

export function permutation(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

export interface ShardPlan {
  shardsPerUnit: number;
  /** Shard indices for the unit at this global position (round-major). */
  shardsFor(globalUnitIndex: number): number[];
}

export function planShards(
  numShards: number,
  shardSize: number,
  samplesPerUnit: number,
  seed: number,
): ShardPlan {
  const shardsPerUnit = Math.max(1, Math.min(numShards, Math.ceil(samplesPerUnit / shardSize)));
  const perms = new Map<number, number[]>();
  const perm = (epoch: number) => {
    let p = perms.get(epoch);
    if (!p) {
      p = permutation(numShards, seed * 7919 + epoch);
      perms.set(epoch, p);
      // Rounds only move forward; older epochs are not needed again.
      perms.delete(epoch - 2);
    }
    return p;
  };
  return {
    shardsPerUnit,
    shardsFor(g) {
      return Array.from({ length: shardsPerUnit }, (_, j) => {
        const pos = g * shardsPerUnit + j;
        return perm(Math.floor(pos / numShards))[pos % numShards];
      });
    },
  };
}
