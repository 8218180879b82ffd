/**
 * First-start work: import Fashion-MNIST into shards when the store has no copy, and create
 * the demo job (the MLP preset) when the store has no job at all. The demo job publishes its
 * model as `fashion` and auto-promotes its best version to `production`: the names the
 * inference example (examples/fashion-classifier) loads by default, so it works out of the box.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { FASHION_MNIST_CLASSES, type JobSpecInput, jobSpecSchema, MODEL_PRESETS } from '@gridtab/shared';
import type { Coordinator } from './app.ts';
import { resolveDataset } from './datasets/data-spec.ts';
import { FASHION_MNIST_FILES, loadFashionMnist } from './datasets/fashion-mnist.ts';
import { importImageDataset } from './datasets/sharding.ts';
import { createJob } from './scheduler/jobs.ts';

/** The dataset name; `npm start` imports the files as its version 1. */
export const FASHION_MNIST_ID = 'fashion-mnist';
export const SHARD_SIZE = 1000;
/** The model name and alias the demo job publishes under; the example app's defaults. */
export const DEMO_MODEL = 'fashion';
export const DEMO_ALIAS = 'production';

export const DEMO_JOB: JobSpecInput = {
  name: 'Fashion-MNIST MLP (demo)',
  model: MODEL_PRESETS['fashion-mlp'],
  dataset: FASHION_MNIST_ID,
  strategy: 'fedavg',
  // Tuned with 3 Node contributors: 85% after about 135-150k samples, 86.5-87% after 384k (40 rounds).
  hyperparameters: { batchSize: 64, localSteps: 50, learningRate: 0.001, optimizer: 'adam' },
  rounds: { unitsPerRound: 3, quorum: 1, deadlineMs: 120_000, leaseMs: 60_000 },
  stopping: { maxRounds: 60, targetAccuracy: 0.86 },
};

/** What the import needs of the coordinator. */
export type FashionMnistDeps = Pick<Coordinator, 'store' | 'config' | 'blobs' | 'datasets' | 'clock' | 'log'>;

export async function ensureFashionMnist(co: FashionMnistDeps): Promise<void> {
  if (await resolveDataset(co.store, FASHION_MNIST_ID)) return;
  const started = Date.now();
  const dir = co.config.fashionMnistDir;
  const data = loadFashionMnist(dir);
  const { id, name, version, parent, source, createdAt, ...content } = await importImageDataset(
    co.blobs,
    FASHION_MNIST_ID,
    1,
    data,
    SHARD_SIZE,
    new Date().toISOString(),
    [...FASHION_MNIST_CLASSES],
  );
  // Through the registry's record path, like an upload: the first version of the name is @1.
  const { record } = await co.datasets.record(FASHION_MNIST_ID, content, {
    ...(await fashionMnistFiles(dir)),
    format: 'idx',
    importedBy: 'bootstrap',
    importedAt: new Date(co.clock.now()).toISOString(),
    options: {},
  });
  co.log(
    `imported Fashion-MNIST as ${record.id}: ${record.shardHashes.length} shards of ${SHARD_SIZE} in ${Date.now() - started} ms`,
  );
}

/** The four files' names, total size and one sha256 over them in their fixed order. */
async function fashionMnistFiles(dir: string) {
  const sha = createHash('sha256');
  let bytes = 0;
  const names: string[] = [];
  for (const file of Object.values(FASHION_MNIST_FILES)) {
    const path = [join(dir, file), join(dir, file.replace(/\.gz$/, ''))].find((p) => existsSync(p))!;
    const data = await readFile(path);
    sha.update(data);
    bytes += data.byteLength;
    names.push(basename(path));
  }
  return { fileName: names.join(', '), bytes, sha256: sha.digest('hex') };
}

/** createJob's dependencies (budget check and build pool included), plus where the job is published and opened. */
export type DemoJobDeps = Pick<
  Coordinator,
  'config' | 'store' | 'blobs' | 'clock' | 'registry' | 'admit' | 'builder' | 'datasets' | 'scheduler' | 'log'
>;

export async function ensureDemoJob(co: DemoJobDeps): Promise<void> {
  if (!co.config.demoJob || (await co.store.listJobs()).length > 0) return;
  const job = await createJob(co, jobSpecSchema.parse(DEMO_JOB));
  // Before the first round opens, so round 1's version is already a candidate for promotion.
  try {
    await co.registry.bindJob(DEMO_MODEL, job.id, { alias: DEMO_ALIAS, metric: 'testAccuracy' });
  } catch (e) {
    // An imported model may hold the name already: the demo still trains, under its own name.
    co.log(`demo job ${job.id} not published as ${DEMO_MODEL}: ${(e as Error).message}`);
  }
  await co.scheduler.openRound(job);
  co.log(
    `created demo job ${job.id} '${job.name}', published as ${DEMO_MODEL} (${DEMO_ALIAS} follows its best version)`,
  );
}
