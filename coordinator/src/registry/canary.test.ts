import { describe, expect, it } from 'vitest';
import type { AliasRecord } from '../storage/registry-records.ts';
import { canaryPoint, pickVersion } from './canary.ts';

const alias: AliasRecord = {
  modelName: 'fashion',
  alias: 'production',
  versionId: 'v-main',
  canary: { versionId: 'v-new', fraction: 0.1 },
  updatedAt: '2026-01-01T00:00:00Z',
};
const keys = Array.from({ length: 20_000 }, (_, i) => `client-${i}`);

describe('canary split', () => {
  it('gives one client the same version every time', () => {
    for (const key of keys.slice(0, 200)) expect(pickVersion(alias, key)).toEqual(pickVersion(alias, key));
  });

  it('sends about the configured share of clients to the canary', () => {
    const share = keys.filter((k) => pickVersion(alias, k).canary).length / keys.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
  });

  it('keeps a client on the canary when the fraction grows (no flapping on a ramp)', () => {
    const onAt10 = keys.filter((k) => pickVersion(alias, k).canary);
    const wider = { ...alias, canary: { versionId: 'v-new', fraction: 0.5 } };
    for (const k of onAt10) expect(pickVersion(wider, k).canary).toBe(true);
  });

  it('splits each alias independently and ignores a missing or empty canary', () => {
    expect(canaryPoint('fashion', 'production', 'k')).not.toBe(canaryPoint('fashion', 'staging', 'k'));
    expect(pickVersion({ ...alias, canary: null }, 'k')).toEqual({ versionId: 'v-main', canary: false });
    const zero = { ...alias, canary: { versionId: 'v-new', fraction: 0 } };
    expect(keys.some((k) => pickVersion(zero, k).canary)).toBe(false);
  });
});
