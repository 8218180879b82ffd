/**
 * Evaluation is off the path to the next unit: a round's version commits, the next round opens
 * and hands out units while the version's evaluation is still running, and the metrics (and a
 * stopping target they meet) land afterwards.
 */
import type { VersionMetrics, WorkUnit } from '@gridtab/shared';
import { GridTabError } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import type { Evaluator } from '../evaluation/evaluator.ts';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';

const PARAMS = 101_770; // the MLP preset

/** An evaluator whose results the test hands out, one call at a time. */
class GatedEvaluator implements Evaluator {
  readonly calls: Array<(m: VersionMetrics) => void> = [];

  evaluate(): Promise<VersionMetrics> {
    return new Promise((resolve) => this.calls.push(resolve));
  }
}

async function take(co: TestCoordinator, who: string): Promise<WorkUnit> {
  const offer = await co.scheduler.requestUnit(who);
  if (!offer.unit) throw new Error('no unit offered');
  return offer.unit;
}

/** Trains round `round` to completion (three units, zero deltas). */
async function finishRound(co: TestCoordinator): Promise<void> {
  const units = [await take(co, 'a'), await take(co, 'b'), await take(co, 'c')];
  const payload = new Uint8Array(PARAMS * 4);
  for (const [i, who] of ['a', 'b', 'c'].entries())
    await co.scheduler.submit(who, updateMetaFor(units[i], payload), payload);
}

/** Yields to the event loop until `done` holds (the test's own timeout bounds it). */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((r) => setImmediate(r));
}

describe('evaluation after the next round opens', () => {
  let co: TestCoordinator;
  afterEach(async () => co?.destroy());

  it('assigns the next round before the version is evaluated, and fills its metrics in after', async () => {
    const evaluator = new GatedEvaluator();
    co = await startTestCoordinator(
      { tickMs: 1e9 },
      { clock: new ManualClock(), evaluator: () => evaluator },
    );
    const job = await addJob(co);
    await finishRound(co);
    await until(() => co.scheduler.roundOf(job.id)?.round === 2);

    // Round 2 hands out a unit on version 1, whose evaluation has not ended.
    const unit = await take(co, 'a');
    const v1 = (await co.store.listVersions(job.id))[1];
    expect(unit).toMatchObject({ round: 2, baseVersionId: v1.id, baseWeightsHash: v1.hash });
    expect(v1.metrics).toEqual({ testAccuracy: null, testLoss: null });
    expect(co.scheduler.evaluating(v1.id)).toBe(true);
    expect(evaluator.calls).toHaveLength(1);

    evaluator.calls[0]({ testAccuracy: 0.42, testLoss: 1.5 });
    await until(() => !co.scheduler.evaluating(v1.id));
    expect((await co.store.getVersion(v1.id))?.metrics).toMatchObject({ testAccuracy: 0.42, testLoss: 1.5 });
    expect((await co.store.getJob(job.id))?.status).toBe('running');
  });

  it('completes a job when an evaluation that lands later meets its target', async () => {
    const evaluator = new GatedEvaluator();
    co = await startTestCoordinator(
      { tickMs: 1e9 },
      { clock: new ManualClock(), evaluator: () => evaluator },
    );
    const job = await addJob(co, { stopping: { maxRounds: 50, targetAccuracy: 0.8 } });
    await finishRound(co);
    await until(() => co.scheduler.roundOf(job.id)?.round === 2);
    const unit = await take(co, 'a');

    evaluator.calls[0]({ testAccuracy: 0.9, testLoss: 0.3 });
    await until(async () => (await co.store.getJob(job.id))?.status === 'completed');
    // The round that opened meanwhile is over: its unit's result is refused, and no unit goes out.
    const payload = new Uint8Array(PARAMS * 4);
    const late = await co.scheduler.submit('a', updateMetaFor(unit, payload), payload).catch((e) => e);
    expect(late).toBeInstanceOf(GridTabError);
    expect((await co.scheduler.requestUnit('b')).unit).toBeNull();
    await co.scheduler.idle();
    expect((await co.store.listVersions(job.id)).map((v) => v.round)).toEqual([0, 1]);
  });

  it('commits a finished round of a job with a target only once the version it trained on is evaluated', async () => {
    const evaluator = new GatedEvaluator();
    co = await startTestCoordinator(
      { tickMs: 1e9 },
      { clock: new ManualClock(), evaluator: () => evaluator },
    );
    const job = await addJob(co, { stopping: { maxRounds: 50, targetAccuracy: 0.8 } });
    await finishRound(co);
    await until(() => co.scheduler.roundOf(job.id)?.round === 2);
    // Round 2 trains and ends while version 1 is still being evaluated: it closes, and waits.
    // (Given time to commit, as it did without the wait: a commit takes milliseconds here.)
    await finishRound(co);
    expect(co.scheduler.roundOf(job.id)).toMatchObject({ round: 2, closing: true });
    await new Promise((r) => setTimeout(r, 500));
    expect((await co.store.listVersions(job.id)).map((v) => v.round)).toEqual([0, 1]);
    // Version 1 misses the target: round 2 commits on it.
    evaluator.calls[0]({ testAccuracy: 0.5, testLoss: 1.2 });
    await until(() => co.scheduler.roundOf(job.id)?.round === 3);
    expect((await co.store.listVersions(job.id)).map((v) => v.round)).toEqual([0, 1, 2]);
    // Round 3 ends while version 2 is evaluated, and version 2 meets the target: the job ends
    // there, on the version that met it, and round 3 makes no version.
    await finishRound(co);
    evaluator.calls[1]({ testAccuracy: 0.85, testLoss: 0.4 });
    await until(async () => (await co.store.getJob(job.id))?.status === 'completed');
    await co.scheduler.idle();
    const versions = await co.store.listVersions(job.id);
    expect(versions.map((v) => v.round)).toEqual([0, 1, 2]);
    expect((await co.store.getJob(job.id))?.versionId).toBe(versions[2].id);
    expect(versions[2].metrics.testAccuracy).toBe(0.85);
    // Round 3's updates were acknowledged and stay stored.
    expect(await co.store.listUpdates(job.id, 3)).toHaveLength(3);
  });
});
