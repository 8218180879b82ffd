/**
 * A dataset version deleted while a job on it is being created (its model check can take
 * seconds): the job must either be refused or make the delete refused, never train on a
 * version whose shards were collected.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { GridTabError, jobSpecSchema } from '@gridtab/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initTf, tf } from '../evaluation/tf-node.ts';
import { createJob } from '../scheduler/jobs.ts';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';
import { PENGUIN_COLUMNS, penguins, toDelimited } from './import/test-data.ts';

describe('deleting a dataset version while a job on it is created', () => {
  let co: TestCoordinator;
  let model: Record<string, unknown>;
  beforeAll(async () => {
    co = await startTestCoordinator();
    await initTf();
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [9], units: 8, activation: 'relu' }),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    model = m.toJSON(undefined, false) as unknown as Record<string, unknown>;
    m.dispose();
  });
  afterAll(() => co?.destroy());

  const importPenguins = async (name: string) => {
    const csv = toDelimited(
      penguins().filter((r) => r.Species !== null),
      PENGUIN_COLUMNS,
    );
    const body = Readable.toWeb(Readable.from([Buffer.from(csv)])) as WebReadableStream<Uint8Array>;
    const { record } = await co.datasets.import(name, body, {
      format: 'csv',
      options: { label: 'Species', missing: 'impute', shardSize: 16 },
      rawOptions: {},
      fileName: 'penguins.csv',
      importedBy: 'test',
    });
    return record;
  };

  it('refuses the job when the delete lands during its model check, and the shards go', async () => {
    const record = await importPenguins('race-a');
    const spec = jobSpecSchema.parse({ ...TEST_JOB, name: 'race a', model, dataset: record.id });
    let deleted: unknown = null;
    // The blobs the creation stores (the job's random initial weights), to see them go again.
    const put = vi.spyOn(co.blobs, 'put');
    // The admission check runs after the version was resolved and the model checked: the
    // delete happens there, in the window a job creation used to leave open.
    const creating = createJob(
      {
        ...co,
        admit: async () => {
          deleted = await co.datasets.delete('race-a', record.version);
        },
      },
      spec,
    );
    await expect(creating).rejects.toSatisfy(
      (e) => e instanceof GridTabError && e.code === 'UNKNOWN_DATASET',
    );
    expect(deleted).toMatchObject({ id: record.id });
    expect(await co.store.getDataset(record.id)).toBeNull();
    expect((await co.store.listJobs()).filter((j) => j.spec.dataset === record.id)).toEqual([]);
    for (const h of record.shardHashes) expect(await co.blobs.has(h)).toBe(false);
    // The initial weights stored for the refused job are not left behind.
    const stored = await Promise.all(put.mock.results.map((r) => r.value as Promise<string>));
    put.mockRestore();
    expect(stored).toHaveLength(1);
    expect(await co.blobs.has(stored[0])).toBe(false);
  });

  it('refuses the delete, keeping the version and its shards, when the job was inserted first', async () => {
    const record = await importPenguins('race-b');
    const spec = jobSpecSchema.parse({ ...TEST_JOB, name: 'race b', model, dataset: record.id });
    // The delete is asked for while the job is being inserted under the dataset's lock: it
    // waits for the lock, then sees the job.
    let deleting: Promise<unknown> | null = null;
    const job = await createJob(
      {
        ...co,
        datasets: {
          holding: (ref, fn) =>
            co.datasets.holding(ref, async () => {
              deleting = co.datasets.delete('race-b', record.version).catch((e) => e);
              return fn();
            }),
        },
      },
      spec,
    );
    expect(job.spec.dataset).toBe(record.id);
    expect(await deleting).toMatchObject({ code: 'DATASET_IN_USE' });
    expect(await co.store.getDataset(record.id)).not.toBeNull();
    for (const h of record.shardHashes) expect(await co.blobs.has(h)).toBe(true);
  });
});
