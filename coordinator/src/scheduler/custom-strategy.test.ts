/**
 * A new strategy is a file and a registration: a tiny one registered here (half of the mean
 * delta, rounds closing at two updates) runs through the unchanged scheduler.
 */
import { type JobSpec, jobSpecSchema } from '@gridtab/shared';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import { afterEach, expect, it } from 'vitest';
import { registerStrategy } from '../strategies/index.ts';
import { unregisterStrategy } from '../strategies/registry.ts';
import { startTestCoordinator, TEST_JOB, type TestCoordinator, updateMetaFor } from '../testing.ts';
import { createJob } from './jobs.ts';

const PARAMS = 101_770; // the MLP preset

registerStrategy({
  name: 'half-step',
  parse: (spec) => spec,
  create: (_params, rule) => ({
    name: 'half-step',
    schedule: { kind: 'rounds', closes: ({ done }) => done >= 2 },
    apply: (base, updates) => {
      const mean = rule.aggregate(new Float32Array(base.length), updates);
      return { weights: base.map((w, i) => w + mean[i] / 2), state: null };
    },
  }),
});

let co: TestCoordinator;
afterEach(async () => {
  await co?.destroy();
  unregisterStrategy('half-step');
});

it('runs a registered test strategy through the scheduler: its schedule and its step', async () => {
  co = await startTestCoordinator({ tickMs: 1e9 });
  // Not an API strategy (shared/src/strategy.ts does not list it), so the spec is built by hand.
  const spec = { ...jobSpecSchema.parse(TEST_JOB), strategy: { name: 'half-step' } } as unknown as JobSpec;
  const job = await createJob(co, spec);
  await co.scheduler.openRound(job);
  const payload = new Uint8Array(new Float32Array(PARAMS).fill(1).buffer);
  for (const who of ['a', 'b']) {
    const unit = (await co.scheduler.requestUnit(who)).unit!;
    await co.scheduler.submit(who, updateMetaFor(unit, payload), payload);
  }
  await co.scheduler.idle();
  // Two of three units made the version (fedavg's quorum 1 would wait for the third).
  const [v0, v1] = await co.store.listVersions(job.id);
  expect(v1?.unitIds).toHaveLength(2);
  const before = bytesToFloat32((await co.blobs.get(v0.hash))!);
  const after = bytesToFloat32((await co.blobs.get(v1.hash))!);
  expect(after[0] - before[0]).toBeCloseTo(0.5, 5);
  expect(after[PARAMS - 1] - before[PARAMS - 1]).toBeCloseTo(0.5, 5);
});
