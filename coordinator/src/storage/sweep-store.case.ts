/**
 * Sweep cases of the shared Store suite (called from store.case.ts): every Store runs them.
 */
import { MODEL_PRESETS, sweepSpecSchema } from '@gridtab/shared';
import { expect, it } from 'vitest';
import type { Store } from './store.ts';
import type { TrialRecord } from './sweep-records.ts';

const at = '2026-01-01T00:00:00Z';

export function sweepCases(
  open: () => Store | Promise<Store>,
  createJob: (store: Store, id: string) => Promise<void>,
) {
  it('sweeps: a sweep and its trials are stored together and updated in one step', async () => {
    const store = await open();
    await createJob(store, 'js1');
    const spec = sweepSpecSchema.parse({
      name: 's',
      base: { name: 'b', model: MODEL_PRESETS['fashion-mlp'], dataset: 'd' },
      space: { 'hyperparameters.batchSize': { type: 'choice', values: [16, 32] } },
      method: { name: 'grid' },
      budget: { maxTrials: 2 },
      metric: 'testLoss',
    });
    const trial = (index: number): TrialRecord => ({
      id: `t-s1-${index}`,
      sweepId: 's1',
      index,
      params: { 'hyperparameters.batchSize': 16 * (index + 1) },
      status: 'pending',
      jobId: null,
      rung: 0,
      error: null,
      repro: null,
      reruns: [],
      createdAt: at,
      endedAt: null,
    });
    await store.sweeps.createSweep(
      { id: 's1', name: 's', spec, status: 'running', createdAt: at, endedAt: null },
      [trial(1), trial(0)],
    );
    expect(await store.sweeps.getSweep('s1')).toMatchObject({ spec, status: 'running' });
    expect((await store.sweeps.listTrials('s1')).map((t) => t.index)).toEqual([0, 1]);
    const [a, b] = await store.sweeps.listTrials('s1');
    await store.sweeps.updateTrials([
      { ...a, status: 'running', jobId: 'js1', rung: 1, reruns: ['js1'] },
      { ...b, status: 'failed', error: 'diverged', endedAt: at },
    ]);
    expect(await store.sweeps.listTrials('s1')).toMatchObject([
      { status: 'running', jobId: 'js1', rung: 1, reruns: ['js1'] },
      { status: 'failed', error: 'diverged', endedAt: at },
    ]);
    await store.sweeps.setSweepStatus('s1', 'cancelled', at);
    expect((await store.sweeps.listSweeps()).find((s) => s.id === 's1')?.status).toBe('cancelled');
    expect(await store.sweeps.getSweep('nope')).toBeNull();
  });
}
