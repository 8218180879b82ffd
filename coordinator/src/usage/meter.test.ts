import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { SqliteStore } from '../storage/sqlite-store.ts';
import { UsageMeter } from './meter.ts';
import { usageConfigFromEnv } from './usage-config.ts';

describe('GRIDTAB_USAGE_METER', () => {
  it('on by default; off meters nothing and still runs the timed work', async () => {
    expect(usageConfigFromEnv({}).meter).toBe(true);
    expect(usageConfigFromEnv({ GRIDTAB_USAGE_METER: 'off' }).meter).toBe(false);
    expect(() => usageConfigFromEnv({ GRIDTAB_USAGE_METER: 'no' })).toThrow('GRIDTAB_USAGE_METER');
    const store = new SqliteStore(':memory:');
    const deps = { store, clock: new ManualClock(0), log: () => {} };
    const on = new UsageMeter(deps);
    const off = new UsageMeter({ ...deps, enabled: false });
    for (const m of [on, off]) {
      m.add('j', 'c', { samples: 10 });
      expect(await m.timeCpu('j', async () => 42)).toBe(42);
    }
    expect(on.pendingRows()).toMatchObject([
      { contributorId: 'c', samples: 10 },
      { contributorId: '', samples: 0 },
    ]);
    expect(off.pendingRows()).toEqual([]);
    await store.close();
  });
});
