/**
 * Bad input through the harness: hostile and broken contributors (NaN, wrong shape, over-norm)
 * and unreliable ones (drop mid-unit, stall past the lease, duplicate, stale) next to honest
 * ones. Every bad update is refused before aggregation with its code, nothing of theirs is
 * stored, every replay and every update for a closed round is refused, a late one counts only if
 * nobody delivered its unit first, the job carries on, and no version ever holds a non-finite value.
 */

import { REFUSED_ATTACKS, type SimContributor, simContributor } from '@gridtab/client/sim';
import { addJob, startTestCoordinator, type TestCoordinator } from '@gridtab/coordinator/testing';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import { afterEach, describe, expect, it } from 'vitest';

describe('fault and attack harness: bad input', () => {
  let co: TestCoordinator | null = null;
  let sims: SimContributor[] = [];
  afterEach(async () => {
    for (const s of sims) await s.contributor.stop();
    sims = [];
    await co?.destroy();
    co = null;
  });

  it('refuses every bad update before aggregation and survives every fault', async () => {
    co = await startTestCoordinator();
    const job = await addJob(co, {
      rounds: { unitsPerRound: 4, quorum: 0.75, deadlineMs: 60_000, leaseMs: 4000 },
      stopping: { maxRounds: 100 },
    });
    const url = co.url;
    const attackers = (['nan', 'wrong-shape', 'over-norm'] as const).map((attack) => ({
      attack,
      sim: simContributor({ coordinatorUrl: url, attack }),
    }));
    const faulty = (['drop', 'stall', 'duplicate', 'stale'] as const).map((fault) => ({
      fault,
      sim: simContributor({ coordinatorUrl: url, fault }),
    }));
    const honest = [0, 1].map(() => simContributor({ coordinatorUrl: url }));
    sims = [...attackers.map((a) => a.sim), ...faulty.map((f) => f.sim), ...honest];
    // Attackers first, so each surely gets units before the honest ones finish the job's rounds.
    await Promise.all(attackers.map((a) => a.sim.contributor.start()));
    await expect
      .poll(() => attackers.every((a) => a.sim.attacked.length >= 1), { timeout: 60_000, interval: 100 })
      .toBe(true);
    await Promise.all([...faulty, ...honest.map((sim) => ({ sim }))].map((f) => f.sim.contributor.start()));
    const faultOf = (name: string) => faulty.find((f) => f.fault === name)!.sim;
    await expect
      .poll(
        async () =>
          faultOf('stall').log.answers.length >= 1 &&
          faultOf('duplicate').log.answers.length >= 2 &&
          faultOf('stale').log.answers.length >= 1 &&
          !faultOf('drop').contributor.state.connected &&
          (await co!.store.listVersions(job.id)).length >= 4,
        { timeout: 200_000, interval: 200 },
      )
      .toBe(true);
    await co.scheduler.setStatus(job.id, 'paused');
    await co.scheduler.idle();

    // Refusals for the lease rather than the payload: its unit was delivered by someone else
    // (LEASE_UNKNOWN), its round closed first (STALE_VERSION: a closed round's leases are known
    // for a while), or the send came after the pause above (JOB_NOT_RUNNING).
    const tooLate = ['LEASE_UNKNOWN', 'STALE_VERSION', 'JOB_NOT_RUNNING'];
    for (const { attack, sim } of attackers) {
      // Never accepted; refused with its own code, or for its lease.
      expect(sim.attacked, attack).not.toContain('ok');
      expect(sim.attacked, attack).toContain(REFUSED_ATTACKS[attack]);
      for (const code of sim.attacked) expect([REFUSED_ATTACKS[attack], ...tooLate]).toContain(code);
    }
    // A stale or replayed update is never accepted; a duplicate's first copy may be, and so may a
    // late one while its round is open and nobody else delivered its unit.
    for (const code of faultOf('stale').log.answers) expect(tooLate).toContain(code);
    for (const code of faultOf('stall').log.answers) expect(['ok', ...tooLate]).toContain(code);
    const dup = faultOf('duplicate').log.answers;
    for (let i = 1; i < dup.length; i += 2) expect(tooLate).toContain(dup[i]);

    const versions = await co.store.listVersions(job.id);
    const badIds = new Set(
      [...attackers.map((a) => a.sim), faultOf('stale'), faultOf('drop')].map(
        (s) => s.contributor.state.contributorId,
      ),
    );
    for (const v of versions.slice(1)) {
      const updates = await co.store.listUpdates(job.id, v.round);
      expect(updates.filter((u) => badIds.has(u.contributorId))).toEqual([]);
      expect(new Set(updates.map((u) => u.unitId)).size).toBe(updates.length);
      const weights = bytesToFloat32((await co.blobs.get(v.hash))!);
      expect(weights.every(Number.isFinite)).toBe(true);
    }
    expect(versions.at(-1)!.metrics.testAccuracy).toBeGreaterThan(0.3); // random guessing is 0.1
  }, 240_000); // nine contributors training on two shared cores: slow, not stuck
});
