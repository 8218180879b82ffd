/**
 * In-memory state of a `buffered` job: no rounds, a pool of units walking the shard plan in
 * order. Like RoundState it is rebuilt from the store at start-up: a unit is done when an
 * accepted update names it (in a committed version or in the buffer); units below the highest
 * done index that are not done go back to the pool, so every shard of a pass is trained exactly
 * once whatever was lost.
 */
import type { Lease, UnitState } from './round.ts';

export interface PoolVersion {
  id: string;
  round: number;
  hash: string;
}

export interface PoolState {
  jobId: string;
  /** The newest version: the base of every unit handed out now. */
  version: PoolVersion;
  /** The version being filled (version.round + 1); updates accepted now are stored under it. */
  round: number;
  paramCount: number;
  /** Units handed out or waiting to be, by id; done units leave the map. */
  units: Map<string, UnitState>;
  /** Accepted unit ids, over the job's whole life. */
  done: Set<string>;
  /** The next global unit index never handed out. */
  next: number;
  /** Updates stored under `round` and, while a version is being made, under `round + 1`. */
  buffered: number;
  overflow: number;
  closing: boolean;
  /** Leases past their deadline whose late result may still be used (within the staleness bound). */
  late: Map<string, Lease>;
}

export function poolUnitId(jobId: string, index: number): string {
  return `${jobId}.async.u${index}`;
}

export function poolUnitIndex(unitId: string): number {
  const at = unitId.lastIndexOf('.async.u');
  return at < 0 ? -1 : Number(unitId.slice(at + 8));
}

/** The pool's first unit to hand out: the oldest lost one, else a new one at the plan's front. */
export function takeUnit(pool: PoolState, shardsFor: (index: number) => string[]): UnitState {
  let first: UnitState | null = null;
  for (const u of pool.units.values()) {
    if (u.status === 'pending' && (!first || u.index < first.index)) first = u;
  }
  if (first) return first;
  const index = pool.next++;
  const unit: UnitState = {
    id: poolUnitId(pool.jobId, index),
    index,
    shardHashes: shardsFor(index),
    status: 'pending',
    lease: null,
  };
  pool.units.set(unit.id, unit);
  return unit;
}

/** Rebuilds the pool's units from the ids of accepted units. */
export function restoreUnits(
  pool: PoolState,
  doneIds: Iterable<string>,
  shardsFor: (index: number) => string[],
): void {
  let highest = -1;
  for (const id of doneIds) {
    pool.done.add(id);
    highest = Math.max(highest, poolUnitIndex(id));
  }
  pool.next = highest + 1;
  for (let index = 0; index <= highest; index++) {
    const id = poolUnitId(pool.jobId, index);
    if (!pool.done.has(id))
      pool.units.set(id, { id, index, shardHashes: shardsFor(index), status: 'pending', lease: null });
  }
}
