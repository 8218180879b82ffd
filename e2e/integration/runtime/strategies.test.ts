/**
 * Node contributors running the real runtime against a real coordinator: a buffered job and a
 * DiLoCo job learn the synthetic dataset, and fp32 updates bigger than a small configured socket
 * message limit reach the coordinator in chunks.
 */

import { type Contributor, createNodeContributor } from '@gridtab/client/runtime';
import { addJob, startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import { afterEach, describe, expect, it } from 'vitest';

describe('contributor runtime with strategies and chunked updates', () => {
  let co: TestCoordinator | null = null;
  let contributors: Contributor[] = [];
  afterEach(async () => {
    for (const c of contributors) await c.stop();
    contributors = [];
    await co?.destroy();
    co = null;
  });

  const finish = async (jobId: string, versions: number) => {
    await expect
      .poll(async () => (await co!.store.getJob(jobId))!.status, { timeout: 120_000, interval: 200 })
      .toBe('completed');
    const list = await co!.store.listVersions(jobId);
    expect(list).toHaveLength(versions);
    expect(list.at(-1)!.metrics.testAccuracy).toBeGreaterThan(0.3); // random guessing is 0.1
    return list;
  };

  it('trains a buffered job and a diloco job side by side, updates chunked under a 64 KiB limit', async () => {
    // An fp32 update of the MLP is 407 KB: seven pieces at this limit.
    co = await startTestCoordinator({ socketMessageBytes: 64 * 1024 });
    const buffered = await addJob(co, {
      name: 'buffered',
      strategy: { name: 'buffered', bufferSize: 2, maxStaleness: 3 },
      stopping: { maxRounds: 3 },
    });
    const diloco = await addJob(co, {
      name: 'diloco',
      strategy: { name: 'diloco', outerLearningRate: 0.7, outerMomentum: 0.5 },
      rounds: { unitsPerRound: 2 },
      stopping: { maxRounds: 2 },
    });
    contributors = [0, 1].map(() => createNodeContributor({ coordinatorUrl: co!.url, benchmarkMs: 100 }));
    await Promise.all(contributors.map((c) => c.start()));
    await finish(buffered.id, 4);
    const dl = await finish(diloco.id, 3);
    expect(dl[2].stateHash).toBeTruthy();
    // Units still in training when the buffered job finished are refused as such, nothing else.
    for (const c of contributors)
      expect([null, 'update refused: JOB_NOT_RUNNING']).toContain(c.state.lastError);
  });
});
