/**
 * Node contributors training against a real coordinator with compressed updates: an int8 job
 * and a top-k job (error feedback kept per job across units) both learn the synthetic dataset.
 */

import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import { addJob, startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import { afterEach, describe, expect, it } from 'vitest';

describe('contributor runtime with codecs', () => {
  let co: TestCoordinator | null = null;
  let contributors: Contributor[] = [];
  afterEach(async () => {
    for (const c of contributors) await c.stop();
    contributors = [];
    await co?.destroy();
    co = null;
  });

  it('trains an int8 job and a top-k job side by side', async () => {
    co = await startTestCoordinator();
    const rounds = { unitsPerRound: 2, quorum: 1, deadlineMs: 60_000, leaseMs: 30_000 };
    const int8 = await addJob(co, {
      name: 'int8',
      codec: { name: 'int8' },
      rounds,
      stopping: { maxRounds: 3 },
    });
    const topk = await addJob(co, {
      name: 'topk',
      codec: { name: 'topk', fraction: 0.1 },
      rounds,
      stopping: { maxRounds: 3 },
    });
    contributors = [0, 1].map(() => createNodeContributor({ coordinatorUrl: co!.url, benchmarkMs: 100 }));
    await Promise.all(contributors.map((c) => c.start()));
    for (const job of [int8, topk]) {
      await expect
        .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 90_000, interval: 200 })
        .toBe('completed');
      const versions = await co.store.listVersions(job.id);
      expect(versions).toHaveLength(4);
      expect(versions.at(-1)!.metrics.testAccuracy).toBeGreaterThan(0.3); // random guessing is 0.1
    }
    for (const c of contributors) expect(c.state.lastError).toBeNull();
  });
});
