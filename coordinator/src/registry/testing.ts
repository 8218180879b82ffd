/**
 * Test support for the registry: versions made in-process, without training, so tests of
 * aliases, exports and the SDK get several versions in milliseconds.
 */
import { randomUUID } from 'node:crypto';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import type { Coordinator } from '../app.ts';

/** Commits a version with the given accuracy straight through the store, as a closed round would. */
export async function commitVersion(
  c: Pick<Coordinator, 'store' | 'blobs'>,
  jobId: string,
  accuracy: number | null,
) {
  const job = (await c.store.getJob(jobId))!;
  const base = (await c.store.getVersion(job.versionId!))!;
  const weights = bytesToFloat32((await c.blobs.get(base.hash))!);
  weights[0] += 0.5; // a different blob per version
  const hash = await c.blobs.put(new Uint8Array(weights.buffer));
  const version = {
    id: `v-${randomUUID().slice(0, 12)}`,
    jobId,
    round: job.round,
    hash,
    parentId: base.id,
    numSamples: 100,
    unitIds: [`${jobId}.r${job.round}.u0`],
    metrics: { testAccuracy: accuracy, testLoss: accuracy === null ? null : 1 - accuracy },
    createdAt: new Date().toISOString(),
  };
  await c.store.commitVersion(version, job.round + 1, 'running');
  return version;
}
