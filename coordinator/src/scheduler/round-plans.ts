/**
 * Where each round-scheduled job stands in its shard plan before its next round, kept when a
 * round closes so opening the next one need not replay every committed version (a restart does).
 * Also the shard lookup both schedules use, since the plan is built the same way for both.
 */
import type { DataSpec } from '@gridtab/shared';
import { dataSpecOf } from '../datasets/data-spec.ts';
import type { JobRecord, Store } from '../storage/store.ts';
import { unitId } from './round.ts';
import { afterRound, type PositionQueue, planShards, queueBefore } from './shard-plan.ts';

export class RoundPlans {
  private readonly queues = new Map<string, { round: number; queue: PositionQueue }>();
  /**
   * Per job, the round the hints are for and who was told to prefetch the shards of which plan
   * position in it (position -> contributor id): the unit at that position goes to that
   * contributor if it asks. In memory only; a lost hint costs a download, nothing else.
   */
  private readonly hints = new Map<string, { round: number; to: Map<number, string> }>();

  constructor(private readonly store: Pick<Store, 'listVersions'>) {}

  /**
   * The job's place in its shard plan before its current round: kept from the round before, or
   * replayed from the unit ids of its committed versions (the same after a restart).
   */
  async queueOf(job: JobRecord): Promise<PositionQueue> {
    const kept = this.queues.get(job.id);
    if (kept?.round === job.round) return kept.queue;
    const { unitsPerRound } = job.spec.rounds;
    const aggregated = new Map<number, Set<string>>();
    for (const v of await this.store.listVersions(job.id)) aggregated.set(v.round, new Set(v.unitIds));
    return queueBefore(job.round, unitsPerRound, (r) =>
      deliveredIn(job.id, r, unitsPerRound, aggregated.get(r)),
    );
  }

  /** Keeps the place after `round`, whose version aggregated `unitIds`. */
  closed(job: JobRecord, round: number, queue: PositionQueue, unitIds: string[]): void {
    const { unitsPerRound } = job.spec.rounds;
    const delivered = deliveredIn(job.id, round, unitsPerRound, new Set(unitIds));
    this.queues.set(job.id, { round: round + 1, queue: afterRound(queue, unitsPerRound, delivered) });
  }

  /** `contributorId` was told to prefetch the shards of plan position `position` for `round`. */
  hint(jobId: string, round: number, position: number, contributorId: string): void {
    let h = this.hints.get(jobId);
    if (h?.round !== round) {
      if (h && h.round > round) return; // a late issue of an older round: its hint is moot
      h = { round, to: new Map() };
      this.hints.set(jobId, h);
    }
    h.to.set(position, contributorId);
  }

  /** Who was told to prefetch which plan position's shards for `round` (position -> contributor id). */
  hintsFor(jobId: string, round: number): ReadonlyMap<number, string> {
    const h = this.hints.get(jobId);
    return h?.round === round ? h.to : NO_HINTS;
  }

  delete(jobId: string): void {
    this.queues.delete(jobId);
    this.hints.delete(jobId);
  }
}

const NO_HINTS: ReadonlyMap<number, string> = new Map();

/** Indices of a round's units among aggregated unit ids (a round with no version: all of them). */
function deliveredIn(jobId: string, round: number, unitsPerRound: number, ids?: Set<string>): Set<number> {
  const indices = new Set<number>();
  for (let i = 0; i < unitsPerRound; i++) if (!ids || ids.has(unitId(jobId, round, i))) indices.add(i);
  return indices;
}

/** The job's shard lookup (global plan index to shard hashes) and the data spec its units carry. */
export async function shardLookup(
  store: Pick<Store, 'getDataset'>,
  job: JobRecord,
): Promise<{ shardsFor: (index: number) => string[]; data: DataSpec }> {
  const dataset = await store.getDataset(job.spec.dataset);
  if (!dataset) throw new Error(`job ${job.id} has no dataset`);
  const hp = job.spec.hyperparameters;
  const plan = planShards(
    dataset.shardHashes.length,
    dataset.shardSize,
    hp.batchSize * hp.localSteps,
    job.spec.seed,
  );
  return {
    shardsFor: (index) => plan.shardsFor(index).map((s) => dataset.shardHashes[s]),
    data: dataSpecOf(dataset, hp.loss),
  };
}
