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

/**
 * Where a synchronous job stands in its shard plan before a round: plan positions that earlier
 * rounds handed out but did not aggregate (ascending), and the first position never handed out.
 */
export interface PositionQueue {
  carried: number[];
  next: number;
}

export const START_QUEUE: PositionQueue = { carried: [], next: 0 };

/**
 * The plan positions of a round's units, in unit order: the carried ones first, then fresh ones.
 * A round that closes at its quorum or deadline leaves some units undelivered; their shards come
 * back in the next round instead of being skipped for the rest of the pass.
 */
export function takePositions(queue: PositionQueue, unitsPerRound: number): number[] {
  const positions = queue.carried.slice(0, unitsPerRound);
  for (let p = queue.next; positions.length < unitsPerRound; p++) positions.push(p);
  return positions;
}

/** The queue after a round whose units at `delivered` (indices) were aggregated. */
export function afterRound(
  queue: PositionQueue,
  unitsPerRound: number,
  delivered: ReadonlySet<number>,
): PositionQueue {
  const positions = takePositions(queue, unitsPerRound);
  const fresh = positions.length - Math.min(queue.carried.length, unitsPerRound);
  const carried = [
    ...queue.carried.slice(unitsPerRound),
    ...positions.filter((_, i) => !delivered.has(i)),
  ].sort((a, b) => a - b);
  return { carried, next: queue.next + fresh };
}

/**
 * The positions of round `round`'s units (rounds count from 1), replayed from which unit indices
 * each earlier round aggregated: the same after a restart, from committed versions alone. When
 * every round aggregates all its units, unit i of round r is at (r - 1) * unitsPerRound + i.
 */
export function roundPositions(
  round: number,
  unitsPerRound: number,
  deliveredIndices: (round: number) => ReadonlySet<number>,
): number[] {
  return takePositions(queueBefore(round, unitsPerRound, deliveredIndices), unitsPerRound);
}

export function queueBefore(
  round: number,
  unitsPerRound: number,
  deliveredIndices: (round: number) => ReadonlySet<number>,
): PositionQueue {
  let queue = START_QUEUE;
  for (let r = 1; r < round; r++) queue = afterRound(queue, unitsPerRound, deliveredIndices(r));
  return queue;
}
