/** Turns store records into the API's public shapes (see shared/src/job.ts). */
import { type JobView, strategyOf, type VersionView } from '@gridtab/shared';
import type { JobRecord, Store, VersionRecord } from '../storage/store.ts';

export function versionView(v: VersionRecord): VersionView {
  return {
    id: v.id,
    jobId: v.jobId,
    round: v.round,
    hash: v.hash,
    parentId: v.parentId,
    createdAt: v.createdAt,
    metrics: v.metrics,
    numSamples: v.numSamples,
    unitIds: v.unitIds,
    ...(v.pruned && { pruned: true }),
  };
}

export async function jobView(store: Store, job: JobRecord): Promise<JobView> {
  const version = job.versionId ? await store.getVersion(job.versionId) : null;
  return {
    id: job.id,
    name: job.name,
    status: job.status,
    // The round in progress; a finished job reports the last round it completed.
    round: job.status === 'completed' ? (version?.round ?? 0) : job.round,
    versionId: job.versionId,
    metrics: version?.metrics ?? { testAccuracy: null, testLoss: null },
    dataset: job.spec.dataset,
    strategy: strategyOf(job.spec).name,
    // Jobs stored before codecs and rules existed were fp32 and averaged.
    codec: job.spec.codec ?? { name: 'fp32' },
    aggregation: job.spec.aggregation,
    createdAt: job.createdAt,
    stopping: {
      maxRounds: job.spec.stopping.maxRounds,
      targetAccuracy: job.spec.stopping.targetAccuracy ?? null,
      targetR2: job.spec.stopping.targetR2 ?? null,
    },
    task: (await store.getDataset(job.spec.dataset))?.schema.task.kind,
  };
}
