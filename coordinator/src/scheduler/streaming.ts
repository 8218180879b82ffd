/**
 * Streaming aggregation in the scheduler (docs/SCALING.md, "Streaming aggregation"): each open
 * round (or buffered version being filled) of a job that streams has a RoundStream, whose
 * accumulator (aggregation/streaming/) folds every accepted update as soon as its row is in the
 * store, in worker threads; making the version then only finishes it, O(parameters).
 *
 * The accumulator is never the record. A stream that cannot vouch for its result (a fold or
 * finish failed, the updates to aggregate are not exactly the ones it folded, it was already
 * finished once) answers null, and the version is made in batch from the stored updates, as
 * without streaming. After a restart or an ownership takeover the runner rebuilds the stream
 * from the stored updates of the open round, in the store's order.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobSpec } from '@gridtab/shared';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import type { AggregationContext } from '../aggregation/aggregator.ts';
import {
  type AccumulatorOptions,
  AggregationPool,
  accumulatorFor,
  combinePartials,
  finishPartial,
  type PartialSum,
  type RoundAccumulator,
  StreamingMean,
} from '../aggregation/streaming/index.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Store, UpdateRecord } from '../storage/store.ts';
import type { Strategy, StrategyStep, StreamingStep } from '../strategies/index.ts';

/**
 * Why a job's versions are made in batch, or null when they stream. Spot-checks replace or drop
 * updates when the round closes, after they would have been folded, so such jobs stay batch.
 */
export function batchReason(spec: Pick<JobSpec, 'spotChecks'>, strategy: Strategy): string | null {
  if (spec.spotChecks) return 'spot-checks screen its updates when the round closes';
  if (!strategy.streaming) return `strategy ${strategy.name} has no streaming step`;
  return null;
}

export interface StreamsOptions {
  /** Folder of the per-process spill folders (the robust rules' column files). */
  spillRoot: string;
  /** Worker threads (default: the pool's, the cores less one). */
  threads?: number;
  accumulator?: AccumulatorOptions;
  log: (msg: string) => void;
}

/** One per coordinator: the worker pool (started on first use) and this process's spill folder. */
export class AggregationStreams {
  private pool: AggregationPool | null = null;
  readonly spillDir: string;

  constructor(private readonly options: StreamsOptions) {
    this.spillDir = join(options.spillRoot, `p${process.pid}`);
  }

  /**
   * Removes what crashed processes left: spill folders of processes that are gone (and this
   * pid's, from an earlier process that had it). Folders of live processes sharing the root stay.
   */
  async start(): Promise<void> {
    const { spillRoot, log } = this.options;
    await mkdir(spillRoot, { recursive: true });
    for (const name of await readdir(spillRoot)) {
      const pid = /^p(\d+)$/.exec(name)?.[1];
      if (pid !== undefined && Number(pid) !== process.pid && alive(Number(pid))) continue;
      await rm(join(spillRoot, name), { recursive: true, force: true });
      if (Number(pid) !== process.pid)
        log(`spill folder ${name} of a process that is gone removed from ${spillRoot}`);
    }
    await mkdir(this.spillDir, { recursive: true });
  }

  /** A stream for a round whose version will be made on a base of round `baseRound`; null: batch. */
  open(spec: JobSpec, strategy: Strategy, paramCount: number, baseRound: number): RoundStream | null {
    if (batchReason(spec, strategy) !== null || !strategy.streaming) return null;
    this.pool ??= new AggregationPool(this.options.threads);
    const options = { dir: this.spillDir, ...this.options.accumulator };
    const acc = accumulatorFor(spec.aggregation, this.pool, paramCount, options);
    return new RoundStream(acc, strategy.streaming, baseRound, this.options.log);
  }

  /** A bare streaming mean of `length` parameters (a non-owner's partial sum, shared-rounds.ts). */
  mean(length: number): StreamingMean {
    this.pool ??= new AggregationPool(this.options.threads);
    return new StreamingMean(this.pool, length, this.options.accumulator?.slots);
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
  }
}

/** An update another process folded into a partial sum. */
export interface CoveredUpdate {
  id: string;
  blobHash: string;
  unitId: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

export class RoundStream {
  /** Unit ids in fold order: a streamed version lists them so (an audit redoes it in that order). */
  readonly unitIds: string[] = [];
  /** Blob hash of each folded update, by update id. */
  private readonly folded = new Map<string, string>();
  /** Partial sums of other processes (the mean only), and the updates they cover (by id: blob hash). */
  private readonly partials: PartialSum[] = [];
  private readonly elsewhere = new Map<string, string>();
  private failure: Error | null = null;
  private spent = false;

  constructor(
    private readonly acc: RoundAccumulator,
    private readonly steps: StreamingStep,
    /** The round of the version this round's version will be made on. */
    readonly baseRound: number,
    private readonly log: (msg: string) => void,
  ) {}

  get count(): number {
    return this.unitIds.length;
  }

  /** Whether the result is still usable (no failure, not finished). */
  get live(): boolean {
    return !this.spent && !this.failure;
  }

  /**
   * Folds an accepted update whose row is in the store; `updateBaseRound` is the round of the
   * version it trained on (its staleness). Never rejects: a failure sends the version to batch.
   */
  fold(record: UpdateRecord, delta: Float32Array, updateBaseRound: number): Promise<void> {
    if (!this.live) return Promise.resolve();
    this.unitIds.push(record.unitId);
    this.folded.set(record.id, record.blobHash);
    try {
      const staleness = Math.max(0, this.baseRound - updateBaseRound);
      const d = this.steps.scaleDelta ? this.steps.scaleDelta(delta, staleness) : delta;
      return this.acc.fold({ delta: d, numSamples: record.numSamples }).catch((e) => this.fail(e));
    } catch (e) {
      this.fail(e as Error);
      return Promise.resolve();
    }
  }

  /**
   * Adds another process's partial sum of updates it stored for this round (shared-rounds.ts).
   * One whose updates were all folded here already (rebuilt from the store after a takeover) is
   * left out; one that covers some of them cannot be taken apart, so the version goes to batch.
   */
  addPartial(part: PartialSum, covers: CoveredUpdate[]): void {
    if (!this.live) return;
    const here = covers.filter((u) => this.folded.has(u.id) || this.elsewhere.has(u.id)).length;
    if (here === covers.length) return;
    if (here > 0) {
      this.fail(new Error(`a partial sum covers ${here} updates already folded`));
      return;
    }
    if (!(this.acc instanceof StreamingMean) || this.steps.scaleDelta) {
      this.fail(new Error(`partial sums are for the mean only, not ${this.acc.rule}`));
      return;
    }
    this.partials.push(part);
    for (const u of covers) {
      this.elsewhere.set(u.id, u.blobHash);
      this.unitIds.push(u.unitId);
    }
  }

  /** Folds the stored updates of the round, in the store's order (a restart or a takeover). */
  async rebuild(updates: UpdateRecord[], store: Pick<Store, 'getVersion'>, blobs: Pick<BlobStore, 'get'>) {
    const rounds = new Map<string, number>();
    for (const u of updates) {
      if (!this.live) return;
      try {
        if (!rounds.has(u.baseVersionId))
          rounds.set(u.baseVersionId, (await store.getVersion(u.baseVersionId))?.round ?? this.baseRound);
        const bytes = await blobs.get(u.blobHash);
        if (!bytes) throw new Error(`blob ${u.blobHash} of update ${u.id} is missing`);
        // Awaited one by one: a rebuild holds one update in memory, not the round.
        await this.fold(u, bytesToFloat32(bytes), rounds.get(u.baseVersionId)!);
      } catch (e) {
        this.fail(e as Error);
      }
    }
  }

  /**
   * The strategy's step on `weights` from the folded updates, when they are exactly `updates`
   * (the stored, screened ones) and the base is the one expected; otherwise null (make it in batch).
   */
  async step(
    baseRound: number,
    weights: Float32Array,
    state: Float32Array | null,
    updates: UpdateRecord[],
    context?: AggregationContext,
  ): Promise<StrategyStep | null> {
    if (!this.live) return null;
    this.spent = true; // an accumulator finishes once; a retry after a failed commit is batch
    if (baseRound !== this.baseRound || !this.matches(updates)) {
      this.log(`streaming aggregation: ${this.count} folded, ${updates.length} to aggregate; made in batch`);
      return null;
    }
    try {
      if (this.partials.length > 0) return await this.combined(weights, state);
      const aggregated = await this.acc.finish(this.steps.ruleBase(weights), context);
      return this.failure ? null : this.steps.step(weights, aggregated, state);
    } catch (e) {
      this.fail(e as Error);
      return null;
    }
  }

  /**
   * The step from this process's folds plus the other processes' partial sums: the float64 sums
   * are added (this process's first, then the partials in the order they came) and finished as
   * base + sum / total, the expression of the batch mean. Only the summation order differs from
   * the batch mean, so the weights agree with it to float64 rounding before the float32 cast.
   */
  private async combined(weights: Float32Array, state: Float32Array | null): Promise<StrategyStep | null> {
    const mean = this.acc as StreamingMean;
    const parts = mean.count > 0 ? [await mean.partial(), ...this.partials] : this.partials;
    const aggregated = finishPartial(this.steps.ruleBase(weights), combinePartials(parts));
    if (this.failure) return null;
    this.log(
      `streaming aggregation: ${mean.count} folded here, ${this.partials.length} partial sums combined`,
    );
    return this.steps.step(weights, aggregated, state);
  }

  private matches(updates: UpdateRecord[]): boolean {
    return (
      updates.length > 0 &&
      updates.length === this.folded.size + this.elsewhere.size &&
      updates.every((u) => (this.folded.get(u.id) ?? this.elsewhere.get(u.id)) === u.blobHash)
    );
  }

  private fail(e: Error): void {
    if (!this.failure) this.log(`streaming aggregation failed (the version is made in batch): ${e.message}`);
    this.failure ??= e;
  }

  /** Frees the accumulator (memory, workers' views, spill files). Never rejects. */
  async close(): Promise<void> {
    this.spent = true;
    await this.acc.close().catch((e) => this.log(`streaming aggregation: close failed: ${e.message}`));
  }
}
