/**
 * Churn through the harness on a buffered job: a tab that vanishes holding a unit and a tab 3x
 * slower than the rest. The vanished tab's unit is handed out again after the grace period, the
 * slow tab's updates are still used (late or stale within the bound), no unit is accepted twice,
 * and the accepted units walk the shard plan without gaps.
 */

import { type SimContributor, simContributor } from '@gridtab/client/sim';
import { addJob, startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { poolUnitIndex } from '../../../coordinator/src/scheduler/pool.ts';

describe('fault harness: churn on a buffered job', () => {
  let co: TestCoordinator | null = null;
  let sims: SimContributor[] = [];
  afterEach(async () => {
    for (const s of sims) await s.contributor.stop();
    sims = [];
    await co?.destroy();
    co = null;
  });

  it('survives a vanished tab and a slow one; every unit accepted once, none lost', async () => {
    co = await startTestCoordinator();
    const job = await addJob(co, {
      strategy: { name: 'buffered', bufferSize: 2, maxStaleness: 3 },
      stopping: { maxRounds: 4 },
    });
    const url = co.url;
    const gone = simContributor({ coordinatorUrl: url, dropAfterUnits: 1 });
    const slow = simContributor({ coordinatorUrl: url, slowFactor: 3 });
    const steady = simContributor({ coordinatorUrl: url });
    sims = [gone, slow, steady];
    await Promise.all(sims.map((s) => s.contributor.start()));
    await expect
      .poll(async () => (await co!.store.getJob(job.id))!.status, { timeout: 120_000, interval: 200 })
      .toBe('completed');
    expect(gone.contributor.state.connected).toBe(false);
    const versions = await co.store.listVersions(job.id);
    expect(versions.at(-1)!.metrics.testAccuracy).toBeGreaterThan(0.3);
    const accepted = versions.flatMap((v) => v.unitIds);
    expect(new Set(accepted).size).toBe(accepted.length);
    const updates = await Promise.all(versions.slice(1).map((v) => co!.store.listUpdates(job.id, v.round)));
    const contributors = new Set(updates.flat().map((u) => u.contributorId));
    expect(contributors.size).toBe(3); // the slow tab's updates count too
    // The vanished tab held a unit: it was trained by someone else, so no index is missing
    // below the highest accepted one, apart from units still in flight at the end.
    const indices = accepted.map(poolUnitIndex).sort((a, b) => a - b);
    const missing = Array.from({ length: indices.at(-1)! + 1 }, (_, i) => i).filter(
      (i) => !indices.includes(i),
    );
    expect(missing.length).toBeLessThanOrEqual(2); // at most the slow and steady tabs' last units
  });
});
