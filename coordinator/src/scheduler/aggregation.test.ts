/** The scheduler closes a round with the rule its job names, not always the mean. */
import type { WorkUnit } from '@gridtab/shared';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';

const PARAMS = 101_770; // the MLP preset

async function submit(co: TestCoordinator, who: string, unit: WorkUnit, value: number) {
  const payload = new Uint8Array(new Float32Array(PARAMS).fill(value).buffer);
  await co.scheduler.submit(who, updateMetaFor(unit, payload), payload);
}

describe('scheduler aggregation rules', () => {
  let co: TestCoordinator;
  const clock = new ManualClock();
  afterEach(async () => co?.destroy());

  it('refuses an update claiming more samples than its unit trains on', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co);
    const unit = (await co.scheduler.requestUnit('attacker')).unit!;
    const payload = new Uint8Array(PARAMS * 4);
    const meta = updateMetaFor(unit, payload);
    await expect(
      co.scheduler.submit('attacker', { ...meta, numSamples: meta.numSamples + 1 }, payload),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await co.store.listUpdates(job.id, 1)).toEqual([]);
    await co.scheduler.submit('attacker', meta, payload);
    expect(await co.store.listUpdates(job.id, 1)).toHaveLength(1);
  });

  for (const [rule, expected] of [
    ['median', 0.02],
    ['mean', (0.01 + 0.02 + 3) / 3],
  ] as const) {
    it(`aggregates a round with ${rule}`, async () => {
      co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
      const job = await addJob(co, { aggregation: { rule } });
      const units: WorkUnit[] = [];
      for (const w of ['a', 'b', 'attacker']) units.push((await co.scheduler.requestUnit(w)).unit!);
      const [a, b, c] = units;
      await submit(co, 'a', a, 0.01);
      await submit(co, 'b', b, 0.02);
      await submit(co, 'attacker', c, 3);
      await co.scheduler.idle();
      const [v0, v1] = await co.store.listVersions(job.id);
      const base = bytesToFloat32((await co.blobs.get(v0.hash))!);
      const next = bytesToFloat32((await co.blobs.get(v1.hash))!);
      for (const i of [0, 777, PARAMS - 1]) expect(next[i] - base[i]).toBeCloseTo(expected, 5);
    });
  }
});
