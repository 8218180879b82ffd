/**
 * With several processes, the process that creates a job claims it before the job's row exists,
 * so another process's tick (which claims running jobs nobody holds) cannot take it first.
 */
import { jobSpecSchema } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCoordinator, TEST_JOB, type TestCoordinator } from '../testing.ts';
import { createJob } from './jobs.ts';

describe('createJob and ownership', () => {
  let co: TestCoordinator | null = null;
  afterEach(async () => {
    await co?.destroy();
    co = null;
  });

  it('claims the new job before its row is written, and gives the claim up when the write fails', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 });
    const calls: string[] = [];
    const store = co.store;
    const scheduler = {
      claimNew: async (jobId: string) => {
        calls.push(`claim ${(await store.getJob(jobId)) ? 'after' : 'before'} the row`);
      },
      unclaim: async (jobId: string) => void calls.push(`unclaim ${jobId}`),
    };
    const job = await createJob({ ...co, scheduler }, jobSpecSchema.parse(TEST_JOB));
    expect(calls).toEqual(['claim before the row']);
    expect((await store.getJob(job.id))?.status).toBe('running');

    calls.length = 0;
    const failing = Object.create(store, {
      createJob: { value: async () => Promise.reject(new Error('disk full')) },
    });
    await expect(
      createJob({ ...co, store: failing, scheduler }, jobSpecSchema.parse(TEST_JOB)),
    ).rejects.toThrow('disk full');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toBe('claim before the row');
    expect(calls[1]).toMatch(/^unclaim j-/);
  });
});
