/** Cases every ReputationStore must pass (run by each Store's suite). */
import { expect, it } from 'vitest';
import type { ReputationStore, SpotCheckRecord } from './reputation-records.ts';

const check = (updateId: string, contributorId: string, passed: boolean, round = 1): SpotCheckRecord => ({
  updateId,
  jobId: 'j1',
  round,
  unitId: `j1.r${round}.u0`,
  contributorId,
  backend: 'wasm',
  passed,
  distance: passed ? 1e-6 : 1,
  replicaHash: 'b'.repeat(64),
  createdAt: '2026-11-24T00:00:00Z',
});

type Holder = { reputation: ReputationStore };

export function reputationCases(open: () => Holder | Promise<Holder>) {
  it('counts checks per contributor and lists them per round', async () => {
    const { reputation } = await open();
    expect(await reputation.getReputation('c1')).toBeNull();
    await reputation.recordCheck(check('u1', 'c1', true));
    await reputation.recordCheck(check('u2', 'c1', true));
    const after = await reputation.recordCheck(check('u3', 'c1', false, 2));
    expect(after).toMatchObject({
      contributorId: 'c1',
      checksPassed: 2,
      checksFailed: 1,
      quarantined: false,
    });
    const round1 = await reputation.listChecks('j1', 1);
    expect(round1.map((c) => [c.updateId, c.passed])).toEqual([
      ['u1', true],
      ['u2', true],
    ]);
    expect((await reputation.listChecks('j1', 2))[0]).toEqual(check('u3', 'c1', false, 2));
  });

  it('refuses a second check of the same update, counting nothing', async () => {
    const { reputation } = await open();
    await reputation.recordCheck(check('u5', 'c5', true));
    await expect(reputation.recordCheck(check('u5', 'c5', false))).rejects.toThrow();
    expect(await reputation.getReputation('c5')).toMatchObject({ checksPassed: 1, checksFailed: 0 });
  });

  it('quarantines and releases, keeping the counts', async () => {
    const { reputation } = await open();
    await reputation.setQuarantined('c2', true, '2026-11-24T00:00:01Z'); // before any check
    await reputation.recordCheck(check('u9', 'c2', false));
    expect(await reputation.getReputation('c2')).toMatchObject({ checksFailed: 1, quarantined: true });
    await reputation.setQuarantined('c2', false, '2026-11-24T00:00:02Z');
    const all = await reputation.listReputations();
    const c2 = all.filter((r) => r.contributorId === 'c2');
    expect(c2.map((r) => [r.quarantined, r.checksFailed])).toEqual([[false, 1]]);
  });

  it('releases a quarantine to probation, keeping the checks, and only once', async () => {
    const { reputation } = await open();
    await reputation.recordCheck(check('u20', 'c3', true));
    await reputation.recordCheck(check('u21', 'c3', false, 2));
    await reputation.setQuarantined('c3', true, '2026-11-24T00:00:03Z');
    const released = await reputation.releaseQuarantine('c3', '2026-11-24T00:00:04Z');
    expect(released).toEqual({
      contributorId: 'c3',
      checksPassed: 0,
      checksFailed: 0,
      quarantined: false,
      updatedAt: '2026-11-24T00:00:04Z',
    });
    expect(await reputation.getReputation('c3')).toEqual(released);
    // The history stays: both checks are still listed with their outcome.
    expect((await reputation.listChecks('j1', 1)).find((c) => c.updateId === 'u20')?.passed).toBe(true);
    expect((await reputation.listChecks('j1', 2)).find((c) => c.updateId === 'u21')?.passed).toBe(false);
    // Not quarantined (any more, or never, or unknown): nothing changes.
    expect(await reputation.releaseQuarantine('c3', '2026-11-24T00:00:05Z')).toBeNull();
    expect((await reputation.getReputation('c3'))?.updatedAt).toBe('2026-11-24T00:00:04Z');
    await reputation.recordCheck(check('u22', 'c4', false));
    expect(await reputation.releaseQuarantine('c4', '2026-11-24T00:00:05Z')).toBeNull();
    expect(await reputation.getReputation('c4')).toMatchObject({ checksFailed: 1, quarantined: false });
    expect(await reputation.releaseQuarantine('c-nobody', '2026-11-24T00:00:05Z')).toBeNull();
    expect(await reputation.getReputation('c-nobody')).toBeNull();
    // Counting starts again from probation.
    expect(await reputation.recordCheck(check('u23', 'c3', true, 3))).toMatchObject({
      checksPassed: 1,
      checksFailed: 0,
    });
  });
}
