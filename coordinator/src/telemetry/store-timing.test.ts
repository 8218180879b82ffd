import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../storage/sqlite-store.ts';
import { timedStore } from './store-timing.ts';

describe('timedStore', () => {
  it('times calls (answered when their Promise settles), the registry too, and passes results through', async () => {
    const seen: [string, number][] = [];
    const raw = new SqliteStore(':memory:');
    const store = timedStore(raw, (method, seconds) => seen.push([method, seconds]));
    expect(await store.listJobs()).toEqual([]);
    await store.banContributor({ contributorId: 'c-1', reason: 'r', bannedAt: '2026-01-01T00:00:00Z' });
    expect((await store.getBan('c-1'))?.reason).toBe('r');
    expect(await store.registry.listModels()).toEqual([]);
    expect(seen.map(([m]) => m)).toEqual(['listJobs', 'banContributor', 'getBan', 'registry.listModels']);
    expect(seen.every(([, s]) => s >= 0 && s < 10)).toBe(true);
    await store.close();
  });
});
