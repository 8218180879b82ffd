import { describe, expect, it } from 'vitest';
import type { JobRecord, Store } from '../storage/store.ts';
import { JobCache } from './job-cache.ts';

const job = (status: JobRecord['status']) => ({ id: 'j1', status }) as JobRecord;

/** A store whose getJob answers only when the test says so. */
function heldStore() {
  const reads: ((j: JobRecord) => void)[] = [];
  const store = { getJob: () => new Promise<JobRecord>((r) => reads.push(r)) } as unknown as Store;
  return { store, reads };
}

describe('JobCache with no copy kept (maximum age 0)', () => {
  it('shares a read in flight among the gets that arrive meanwhile, and reads anew after it', async () => {
    const { store, reads } = heldStore();
    const cache = new JobCache(store, 0);
    const first = [cache.get('j1'), cache.get('j1'), cache.get('j1')];
    expect(reads).toHaveLength(1);
    reads[0](job('running'));
    expect((await Promise.all(first)).map((j) => j?.status)).toEqual(['running', 'running', 'running']);
    // Nothing is kept: the next get reads the store again and sees a pause written meanwhile.
    const next = cache.get('j1');
    expect(reads).toHaveLength(2);
    reads[1](job('paused'));
    expect((await next)?.status).toBe('paused');
  });

  it("does not hand a read begun before this process's own write to a get after it", async () => {
    const { store, reads } = heldStore();
    const cache = new JobCache(store, 0);
    const before = cache.get('j1');
    cache.forget('j1'); // this process wrote the job
    const after = cache.get('j1');
    expect(reads).toHaveLength(2);
    reads[0](job('running'));
    reads[1](job('paused'));
    expect((await before)?.status).toBe('running');
    expect((await after)?.status).toBe('paused');
  });
});
