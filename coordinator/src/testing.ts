/**
 * Test support: a small, learnable, synthetic image dataset written as real IDX .gz files (so
 * the real loader runs), and a coordinator started on a free port with its own temporary
 * DATA_DIR. Used by the coordinator's tests and by the integration tests in e2e/integration/.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  type JobSpecInput,
  jobSpecSchema,
  MODEL_PRESETS,
  type UpdateMeta,
  type WorkUnit,
} from '@gridtab/shared';
import { syntheticImages } from '@gridtab/shared/testing';
import { type CoordinatorDeps, createCoordinator, type RunningCoordinator } from './app.ts';
import { FASHION_MNIST_ID } from './bootstrap.ts';
import { type CoordinatorConfig, configFromEnv } from './config.ts';
import { FASHION_MNIST_FILES } from './datasets/fashion-mnist.ts';
import { encodeIdx } from './datasets/idx.ts';
import { TfEvaluator } from './evaluation/evaluator.ts';
import { inThreadBuilder } from './model-build/model-builder.ts';
import { createJob } from './scheduler/jobs.ts';

export { freePort, spawnCoordinator } from './testing-processes.ts';
export { syntheticImages };

export function writeSyntheticDataset(dir: string, trainCount = 3000, testCount = 500): void {
  const train = syntheticImages(trainCount, 1);
  const test = syntheticImages(testCount, 2);
  const f = FASHION_MNIST_FILES;
  writeFileSync(join(dir, f.trainImages), gzipSync(encodeIdx([trainCount, 28, 28], train.pixels)));
  writeFileSync(join(dir, f.trainLabels), gzipSync(encodeIdx([trainCount], train.labels)));
  writeFileSync(join(dir, f.testImages), gzipSync(encodeIdx([testCount, 28, 28], test.pixels)));
  writeFileSync(join(dir, f.testLabels), gzipSync(encodeIdx([testCount], test.labels)));
}

export interface TestCoordinator extends RunningCoordinator {
  dir: string;
  /** Stops the coordinator and deletes its data. */
  destroy(): Promise<void>;
}

export async function startTestCoordinator(
  overrides: Partial<CoordinatorConfig> = {},
  deps: CoordinatorDeps = {},
): Promise<TestCoordinator> {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-test-'));
  writeSyntheticDataset(dir);
  const base = configFromEnv({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'data'),
    ADMIN_TOKEN: 'test-admin-token',
    FASHION_MNIST_DIR: dir,
    GRIDTAB_DEMO_JOB: '0',
  });
  const config = {
    ...base,
    // Tests join and guess from one loopback address far more than a person would; the
    // security tests pass their own limits.
    security: {
      ...base.security,
      joinLimit: { burst: 1e6, perMinute: 1e6 },
      authFailureLimit: { burst: 1e6, perMinute: 1e6 },
      maxConnectionsPerAddress: 0,
    },
    tickMs: 100,
    disconnectGraceMs: 1000,
    ...overrides,
  };
  // Specs are built and versions evaluated in this thread: a worker starts TF.js anew (seconds
  // on a loaded machine) in every test file. Pass `{ builder: undefined }` for the coordinator's
  // own pool, `{ evaluator: undefined }` for its evaluation thread (same metrics:
  // evaluator-thread.test.ts).
  const co = await createCoordinator(config, {
    log: () => {},
    builder: inThreadBuilder,
    evaluator: (blobs) => new TfEvaluator(blobs),
    ...deps,
  });
  return {
    ...co,
    dir,
    async destroy() {
      await co.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small job on the synthetic data: quick units, short leases. */
export const TEST_JOB: JobSpecInput = {
  name: 'test job',
  model: MODEL_PRESETS['fashion-mlp'],
  dataset: FASHION_MNIST_ID,
  hyperparameters: { batchSize: 32, localSteps: 10, learningRate: 0.002, optimizer: 'adam' },
  rounds: { unitsPerRound: 3, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 },
  stopping: { maxRounds: 50 },
};

export async function addJob(co: RunningCoordinator, spec: Partial<JobSpecInput> = {}) {
  const job = await createJob(co, jobSpecSchema.parse({ ...TEST_JOB, ...spec }));
  await co.scheduler.openRound(job);
  return job;
}

/**
 * The metadata a contributor sends with `payload` as its update for `unit`, in the unit's codec
 * and with the unit's full sample count; `extra` overrides any field.
 */
export function updateMetaFor(
  unit: WorkUnit,
  payload: Uint8Array,
  extra: Partial<UpdateMeta> = {},
): UpdateMeta {
  return {
    leaseId: unit.leaseId,
    unitId: unit.unitId,
    baseVersionId: unit.baseVersionId,
    numSamples: unit.batchSize * unit.localSteps,
    codec: unit.codec.name,
    checksum: createHash('sha256').update(payload).digest('hex'),
    loss: 1,
    trainMs: 10,
    backend: 'cpu',
    ...extra,
  };
}
