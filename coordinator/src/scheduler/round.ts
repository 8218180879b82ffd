/**
 * In-memory state of one open round. It is rebuilt from the store at start-up (accepted
 * updates are durable, leases are not), so it holds nothing that cannot be lost.
 */
export type UnitStatus = 'pending' | 'leased' | 'done';

import type { WorkUnit } from '@gridtab/shared';
import type { PositionQueue } from './shard-plan.ts';

export interface Lease {
  leaseId: string;
  jobId: string;
  round: number;
  unitId: string;
  contributorId: string;
  deadline: number;
  /** When it was handed out (epoch ms): the contributor's speed is measured from it. */
  issuedAt: number;
  /** The version the unit trains on, and that version's round (staleness is counted in rounds). */
  baseVersionId: string;
  baseRound: number;
  /** The unit as handed out, so a spot-check can recompute exactly it. */
  unit?: WorkUnit;
}

export interface UnitState {
  id: string;
  index: number;
  shardHashes: string[];
  status: UnitStatus;
  lease: Lease | null;
}

export interface RoundState {
  jobId: string;
  round: number;
  baseVersionId: string;
  baseHash: string;
  paramCount: number;
  openedAt: number;
  units: UnitState[];
  closing: boolean;
  /** Where the job stood in its shard plan when the round opened (the next round starts from it). */
  queue: PositionQueue;
  /**
   * Leases of this round past their deadline (not released): a late result is still used while
   * the round is open and nobody else delivered the unit.
   */
  late: Map<string, Lease>;
}

export function unitId(jobId: string, round: number, index: number): string {
  return `${jobId}.r${round}.u${index}`;
}

export function countByStatus(round: RoundState, status: UnitStatus): number {
  return round.units.filter((u) => u.status === status).length;
}
