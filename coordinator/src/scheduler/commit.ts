/**
 * Making a version: the job's strategy turns the base weights, the accepted updates and the
 * strategy's persisted state into the next weights, which are committed with the job's next
 * round in one store transaction. Evaluation on the test set is not on that path: the version
 * commits with its metrics not yet evaluated (null), the next round opens, and evaluateVersion
 * fills them in afterwards (versions.ts), so tabs do not wait on the test set between units.
 * Shared by synchronous rounds and buffered pools.
 */
import { randomUUID } from 'node:crypto';
import { strategyOf, type VersionMetrics } from '@gridtab/shared';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import { aggregationContext } from '../aggregation/history.ts';
import { aggregatorFor } from '../aggregation/rules.ts';
import type { Clock } from '../clock.ts';
import type { Evaluator } from '../evaluation/evaluator.ts';
import type { SpotChecks } from '../reputation/spot-check.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { JobRecord, Store, UpdateRecord, VersionRecord } from '../storage/store.ts';
import { jobStrategy } from '../strategies/index.ts';
import type { RoundStream } from './streaming.ts';

export interface CommitDeps {
  store: Store;
  blobs: BlobStore;
  clock: Clock;
  evaluator: Evaluator;
  /**
   * Pause the job once this version is committed (a sweep's rung); same store write. `samples`
   * reads what the job has trained up to and including this version, only when asked.
   */
  holdAfter?: (jobId: string, round: number, samples: () => Promise<number>) => boolean | Promise<boolean>;
  spotChecks?: SpotChecks;
}

export async function loadFloats(blobs: BlobStore, hash: string): Promise<Float32Array> {
  const bytes = await blobs.get(hash);
  if (!bytes) throw new Error(`blob ${hash} is missing`);
  return bytesToFloat32(bytes);
}

/** Commits version `round` of `job` on `base` from `updates`; returns it and the job's new status. */
export async function commitVersion(
  deps: CommitDeps,
  job: JobRecord,
  base: VersionRecord,
  updates: UpdateRecord[],
  round: number,
  stream?: RoundStream | null,
): Promise<{
  version: VersionRecord;
  status: JobRecord['status'];
  weights: Float32Array;
  evaluated: boolean;
}> {
  const { store, blobs, clock } = deps;
  const weights = await loadFloats(blobs, base.hash);
  const state = base.stateHash ? await loadFloats(blobs, base.stateHash) : null;
  const versionRounds = new Map<string, number>();
  const roundOf = async (id: string) => {
    if (!versionRounds.has(id)) versionRounds.set(id, (await store.getVersion(id))?.round ?? base.round);
    return versionRounds.get(id)!;
  };
  // Robustness hook: after the round's spot-checks, failed updates are replaced by the
  // coordinator's replica and unchecked ones of quarantined contributors left out.
  const screened = deps.spotChecks ? await deps.spotChecks.screen(job.id, round, updates) : updates;
  // Robustness hook: rules with momentum read the previous step, derived from stored versions.
  const context = aggregatorFor(job.spec.aggregation).usesHistory
    ? await aggregationContext(store, blobs, base.id)
    : undefined;
  // Streaming (streaming.ts): the round's accumulator finishes if it folded exactly `screened`.
  const streamed = (await stream?.step(base.round, weights, state, screened, context)) ?? null;
  const weighted = streamed
    ? []
    : await Promise.all(
        screened.map(async (u) => ({
          delta: await loadFloats(blobs, u.blobHash),
          numSamples: u.numSamples,
          staleness: Math.max(0, base.round - (await roundOf(u.baseVersionId))),
        })),
      );
  // Nothing left after screening (all from quarantined contributors): the base carries over.
  const step =
    streamed ??
    (weighted.length > 0
      ? jobStrategy(job.spec).apply(weights, weighted, state, context)
      : { weights, state });
  const weightBytes = new Uint8Array(step.weights.buffer, step.weights.byteOffset, step.weights.byteLength);
  const hash = await blobs.put(weightBytes);
  // Read at once by the next round's opening and every tab of the job.
  blobs.remember?.(hash, weightBytes);
  const stateHash = step.state ? await blobs.put(new Uint8Array(step.state.buffer)) : null;
  const { maxRounds } = job.spec.stopping;
  const current = (await store.getJob(job.id))!;
  const numSamples = updates.reduce((n, u) => n + u.numSamples, 0);
  const trained = async () =>
    (await store.listVersions(job.id)).reduce((n, v) => n + v.numSamples, numSamples);
  const held = current.status === 'running' && (await deps.holdAfter?.(job.id, round, trained));
  // A target accuracy or R² is checked when the evaluation lands (versions.ts), not here.
  const status = round >= maxRounds ? 'completed' : held ? 'paused' : current.status;
  // No next round opens after this commit (the job ends or waits): nobody waits on the
  // evaluation, so it runs here and a completed job's last version is always evaluated.
  const evaluated = status !== 'running';
  const version: VersionRecord = {
    id: `v-${randomUUID().slice(0, 12)}`,
    jobId: job.id,
    round,
    hash,
    parentId: base.id,
    numSamples,
    // Streamed: in fold order, the order an audit redoes the mean in to get the same bits.
    unitIds: streamed ? [...stream!.unitIds] : updates.map((u) => u.unitId),
    metrics: evaluated ? await testMetrics(deps, job, step.weights) : notEvaluated(),
    createdAt: new Date(clock.now()).toISOString(),
    // Only strategies with state write the column, so stores without it keep working for the rest.
    ...(stateHash ? { stateHash } : {}),
  };
  await store.commitVersion(version, round + 1, status);
  return { version, status, weights: step.weights, evaluated };
}

function testMetrics(deps: Pick<CommitDeps, 'store' | 'evaluator'>, job: JobRecord, weights: Float32Array) {
  return deps.store
    .getDataset(job.spec.dataset)
    .then((dataset) =>
      deps.evaluator.evaluate(job.spec.model, weights, dataset!, job.spec.hyperparameters.loss),
    );
}

/** A version's metrics before its evaluation ends (the initial version's, too). */
export const notEvaluated = (): VersionMetrics => ({ testAccuracy: null, testLoss: null });

/** Evaluates a committed version's weights on the job's test set and stores the metrics. */
export async function evaluateVersion(
  deps: Pick<CommitDeps, 'store' | 'evaluator'>,
  job: JobRecord,
  version: VersionRecord,
  weights: Float32Array,
): Promise<VersionMetrics> {
  const metrics = await testMetrics(deps, job, weights);
  await deps.store.setVersionMetrics(version.id, metrics);
  return metrics;
}

/** Whether the version's metrics meet the job's target (accuracy for classification, R² for regression). */
/** Whether the job stops at a target accuracy or R², checked as each version's evaluation lands. */
export function hasStoppingTarget(stopping: { targetAccuracy?: number; targetR2?: number }): boolean {
  return stopping.targetAccuracy !== undefined || stopping.targetR2 !== undefined;
}

export function reachedStoppingTarget(
  stopping: { targetAccuracy?: number; targetR2?: number },
  metrics: VersionMetrics,
): boolean {
  if (stopping.targetAccuracy !== undefined && (metrics.testAccuracy ?? -1) >= stopping.targetAccuracy)
    return true;
  return stopping.targetR2 !== undefined && metrics.testR2 != null && metrics.testR2 >= stopping.targetR2;
}

export function isBuffered(job: JobRecord): boolean {
  return strategyOf(job.spec).name === 'buffered';
}
