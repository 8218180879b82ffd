/**
 * Creating jobs: the spec is parsed by the shared schema, costed from its configs, then built
 * with TF.js (in a build worker), because only building tells whether the layers fit together
 * and whether the model's input and output match the dataset. The initial weights become the
 * job's round-0 version.
 */
import { randomUUID } from 'node:crypto';
import { checkModelSpec, DEFAULT_SPEC_LIMITS, GridTabError, type JobSpec } from '@gridtab/shared';
import type { Clock } from '../clock.ts';
import { outputsOf, resolveDataset } from '../datasets/data-spec.ts';
import type { DatasetRegistry } from '../datasets/registry.ts';
import { inThreadBuilder, type ModelBuilder } from '../model-build/model-builder.ts';
import type { Registry } from '../registry/registry.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord, JobRecord, Store } from '../storage/store.ts';
import type { Scheduler } from './scheduler.ts';

/** Largest model a job may train: its fp32 update must fit the update size limit. */
export const MAX_PARAMS = 4_000_000;

/** The spec's cost from its configs alone, before TF.js allocates anything (shared/src/model-spec-check.ts). */
export function checkSpecCost(model: unknown): void {
  checkModelSpec(model, { ...DEFAULT_SPEC_LIMITS, maxParams: MAX_PARAMS });
}

export async function checkModel(
  spec: JobSpec,
  dataset: DatasetRecord,
  builder: ModelBuilder = inThreadBuilder,
): Promise<Float32Array> {
  checkSpecCost(spec.model);
  // Built off the event loop (model-build/): initialising millions of weights takes seconds.
  const model = await builder.run({ kind: 'check', topology: spec.model });
  const [input, output] = [model.inputs[0], model.outputs[0]];
  const { inputShape, task } = dataset.schema;
  const outputs = outputsOf(dataset);
  const what = task.kind === 'classification' ? `${outputs} classes` : `${outputs} regression targets`;
  if (model.inputs.length !== 1 || JSON.stringify(input) !== JSON.stringify(inputShape)) {
    throw new GridTabError(
      'DATASET_MODEL_MISMATCH',
      `the model takes input ${JSON.stringify(input)}; dataset ${dataset.id} gives ${JSON.stringify(inputShape)} (${what})`,
    );
  }
  if (model.outputs.length !== 1 || output.length !== 1 || output[0] !== outputs) {
    throw new GridTabError(
      'DATASET_MODEL_MISMATCH',
      `the model outputs ${JSON.stringify(output)}; dataset ${dataset.id} needs [${outputs}] (${what}); its input ${JSON.stringify(inputShape)} fits`,
    );
  }
  const n = model.params;
  if (n === 0 || n > MAX_PARAMS) {
    throw new GridTabError('INVALID_MODEL_SPEC', `the model has ${n} parameters; the limit is ${MAX_PARAMS}`);
  }
  return model.weights;
}

/**
 * `registry` registers the job's model in the same call (reads of the registry never scan jobs
 * for new ones); null for a job that is no model of its own (a sweep trial). `initialWeights` (a blob hash) starts the job from those weights instead of TF.js's random
 * initialisation, which is not seeded: a re-run of a sweep trial starts where the trial did.
 */
export async function createJob(
  deps: {
    store: Store;
    blobs: BlobStore;
    clock: Clock;
    registry: Pick<Registry, 'registerJob'> | null;
    /** Budget and storage-quota checks (usage/storage.ts); throws INVALID_BUDGET or STORAGE_QUOTA. */
    admit?: (spec: JobSpec, initialBytes: number) => Promise<void>;
    /** Where the spec is built; the coordinator's worker pool (default: this thread). */
    builder?: ModelBuilder;
    /**
     * The dataset registry: the job is inserted under its dataset's lock, after checking that
     * the version still exists, so a concurrent delete cannot collect the shards of a version a
     * new job trains on (datasets/registry.ts holding). Without it, no such guard.
     */
    datasets?: Pick<DatasetRegistry, 'holding'>;
    /** With several processes: the creating process takes the job before its row exists. */
    scheduler?: Pick<Scheduler, 'claimNew' | 'unclaim'>;
  },
  spec: JobSpec,
  initialWeights?: string,
): Promise<JobRecord> {
  const dataset = await resolveDataset(deps.store, spec.dataset);
  if (!dataset) {
    const known = (await deps.store.listDatasets()).map((d) => d.id);
    throw new GridTabError(
      'UNKNOWN_DATASET',
      `dataset '${spec.dataset}' does not exist; known: ${known.join(', ')}`,
    );
  }
  // The version is recorded in the job: `name` alone means the latest one at creation.
  spec = { ...spec, dataset: dataset.id };
  const weights = await checkModel(spec, dataset, deps.builder);
  await deps.admit?.(spec, initialWeights ? 0 : weights.byteLength);
  let hash: string;
  if (initialWeights) {
    const bytes = await deps.blobs.get(initialWeights);
    if (bytes?.byteLength !== weights.byteLength)
      throw new GridTabError(
        'WEIGHTS_MISMATCH',
        `initial weights ${initialWeights} are missing or do not fit`,
      );
    hash = initialWeights;
  } else hash = await deps.blobs.put(new Uint8Array(weights.buffer));
  const now = new Date(deps.clock.now()).toISOString();
  const job: JobRecord = {
    id: `j-${randomUUID().slice(0, 8)}`,
    name: spec.name,
    spec,
    status: 'running',
    round: 0,
    versionId: null,
    createdAt: now,
  };
  const insert = async () => {
    // The model check above can take seconds: the version may have been deleted meanwhile.
    if (deps.datasets && !(await deps.store.getDataset(dataset.id)))
      throw new GridTabError(
        'UNKNOWN_DATASET',
        `dataset '${dataset.id}' was deleted while the job was created`,
      );
    await deps.store.createJob(job, {
      id: `v-${randomUUID().slice(0, 12)}`,
      jobId: job.id,
      round: 0,
      hash,
      parentId: null,
      numSamples: 0,
      unitIds: [],
      metrics: { testAccuracy: null, testLoss: null },
      createdAt: now,
    });
  };
  // Claimed before the row is written: another process's tick lists running jobs and claims
  // the ones nobody holds, and would otherwise win this one while its creator registers it.
  await deps.scheduler?.claimNew(job.id);
  const written = deps.datasets ? deps.datasets.holding(dataset.id, insert) : insert();
  await written.catch(async (e) => {
    await deps.scheduler?.unclaim(job.id);
    // The random initial weights stored above belong to no row now: not left behind (unless
    // some row names the same bytes, as a model of all zeros might).
    if (!initialWeights && !(await deps.store.usage.blobReferenced(hash).catch(() => true)))
      await deps.blobs.delete(hash).catch(() => false);
    throw e;
  });
  const created = (await deps.store.getJob(job.id))!;
  // A crash between the two writes leaves the job unregistered until the next start-up backfill.
  await deps.registry?.registerJob(created);
  return created;
}
