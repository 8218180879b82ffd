/**
 * Per-contributor speed, for leases that follow it: a fast tab that vanished is noticed soon, and
 * a slow one is not cut off before it could finish. Speeds measured on accepted units (samples
 * over the wall time from lease to submission, fetching included) win over the samples/s a tab
 * reports, which a tab could inflate; a contributor with neither gets the job's leaseMs.
 * Only what was measured on at least MIN_MEASURED units may shorten a lease below leaseMs: a
 * tab's short benchmark, or its first unit, says little about how it runs on a loaded machine, so
 * they may only lengthen it.
 */
export interface LeasePolicy {
  leaseMs: number;
  leaseMargin: number;
  leaseFloorMs: number;
}

/** Smoothing of measured speeds: recent units count most, one odd unit does not dominate. */
const ALPHA = 0.5;
/** A lease never exceeds this many times the job's leaseMs, however slow the tab looks. */
const MAX_STRETCH = 20;
/** Measured units of a contributor before its speed may shorten its leases. */
const MIN_MEASURED = 2;
/**
 * A speed-sized unit is MIN_UNIT_SIZE to MAX_UNIT_SIZE times the job's localSteps: wider below,
 * where a slow machine (a phone beside desktops) may need a tenth of the others' work; narrower
 * above, where a bigger unit cycles more epochs over the same shards (2x: 1.6 over a unit's).
 */
const MIN_UNIT_SIZE = 0.25;
export const MAX_UNIT_SIZE = 2;
/** A contributor leased a unit of the job this recently is one of its peers in sizing. */
const PEER_WINDOW_MS = 120_000;
/**
 * A job's median training speed (units sized to time) is worked out again at most this often
 * once known: it walks the job's recent tabs and sorts their speeds, which on every lease of a
 * job with 10,000 tabs would be a sort of 10,000 numbers on the assignment path.
 */
export const MEDIAN_REFRESH_MS = 1000;

/** The fewest steps of a unit sized to time (a tab stops at its budget, but not before). */
export function minTimedSteps(baseSteps: number): number {
  return Math.max(1, Math.ceil(baseSteps * MIN_UNIT_SIZE));
}

interface Trained {
  speed: number;
  units: number;
}

export class SpeedBook {
  private readonly measured = new Map<string, number>();
  private readonly reported = new Map<string, number>();
  private readonly units = new Map<string, number>();
  /** Per job: its contributors and when each was last leased a unit (for unit sizing). */
  private readonly peers = new Map<string, Map<string, number>>();
  /** Per job and contributor: training speed (samples per ms) its updates report, for units sized to time. */
  private readonly training = new Map<string, Map<string, Trained>>();
  /** Per job: its median training speed (null: none measured enough), when worked out, and whether an update came since. */
  private readonly medians = new Map<string, { median: number | null; at: number; stale: boolean }>();

  /** Records an accepted unit of `samples` that took `ms` from lease to submission. */
  measure(contributorId: string, samples: number, ms: number): void {
    if (!(samples > 0) || !(ms > 0)) return;
    const sps = samples / (ms / 1000);
    const prev = this.measured.get(contributorId);
    this.measured.set(contributorId, prev === undefined ? sps : ALPHA * sps + (1 - ALPHA) * prev);
    this.units.set(contributorId, (this.units.get(contributorId) ?? 0) + 1);
  }

  report(contributorId: string, samplesPerSec: number): void {
    if (samplesPerSec > 0 && Number.isFinite(samplesPerSec)) this.reported.set(contributorId, samplesPerSec);
  }

  samplesPerSec(contributorId: string): number | null {
    return this.measured.get(contributorId) ?? this.reported.get(contributorId) ?? null;
  }

  /**
   * Local steps for a unit of job `jobId` leased to `contributorId` now, under the job's
   * `unitSizing: 'speed'`: the job's `baseSteps` times this contributor's measured speed over the
   * mean of the job's recent contributors' (those leased a unit in the last PEER_WINDOW_MS), from
   * MIN_UNIT_SIZE to MAX_UNIT_SIZE times, so that a round's units take about as long on each
   * tab and none waits long for the slowest. `baseSteps` until this contributor and at least one
   * other have MIN_MEASURED measured units.
   */
  unitSteps(jobId: string, contributorId: string, baseSteps: number, now: number): number {
    const speeds: number[] = [];
    for (const id of this.recentPeers(jobId, contributorId, now))
      if ((this.units.get(id) ?? 0) >= MIN_MEASURED) speeds.push(this.measured.get(id)!);
    const own = this.measured.get(contributorId);
    if (own === undefined || (this.units.get(contributorId) ?? 0) < MIN_MEASURED || speeds.length < 2)
      return baseSteps;
    const mean = speeds.reduce((a, b) => a + b, 0) / speeds.length;
    const ratio = Math.min(MAX_UNIT_SIZE, Math.max(MIN_UNIT_SIZE, own / mean));
    return Math.max(1, Math.round(baseSteps * ratio));
  }

  /**
   * Records the training time an accepted update of job `jobId` reports (`samples` in `trainMs`),
   * for units sized to time. A tab could claim any time; what it buys is bounded: the budget is
   * the median over the job's tabs, and a unit's steps stay within MIN_UNIT_SIZE to MAX_UNIT_SIZE.
   */
  trained(jobId: string, contributorId: string, samples: number, trainMs: number): void {
    if (!(samples > 0) || !(trainMs > 0) || !Number.isFinite(trainMs)) return;
    const perJob = this.training.get(jobId) ?? new Map<string, Trained>();
    this.training.set(jobId, perJob);
    const speed = samples / trainMs;
    const cached = this.medians.get(jobId);
    if (cached) cached.stale = true;
    const prev = perJob.get(contributorId);
    perJob.set(
      contributorId,
      prev ? { speed: ALPHA * speed + (1 - ALPHA) * prev.speed, units: prev.units + 1 } : { speed, units: 1 },
    );
  }

  /**
   * A unit of job `jobId` sized to time (`unitSizing: 'time'`), leased to `contributorId` now:
   * the training time `baseSamples` take at the median training speed of the job's recent tabs
   * (each measured on at least MIN_MEASURED units), and the steps this tab should fit in it at
   * its own speed (for its lease). Null until some tab has that many units: the unit is then fixed.
   */
  timedUnit(
    jobId: string,
    contributorId: string,
    baseSteps: number,
    batchSize: number,
    now: number,
  ): { budgetMs: number; expectedSteps: number } | null {
    const perJob = this.training.get(jobId);
    const median = this.medianSpeed(jobId, contributorId, now);
    if (median === null) return null;
    const budgetMs = (baseSteps * batchSize) / median;
    const own = perJob?.get(contributorId)?.speed ?? median;
    const steps = Math.round((own * budgetMs) / batchSize);
    return {
      budgetMs: Math.round(budgetMs),
      expectedSteps: Math.min(baseSteps * MAX_UNIT_SIZE, Math.max(minTimedSteps(baseSteps), steps)),
    };
  }

  /**
   * The median training speed of the job's recent tabs (each measured on MIN_MEASURED units), as
   * worked out at most MEDIAN_REFRESH_MS ago; at once while none is known and an update came.
   */
  private medianSpeed(jobId: string, contributorId: string, now: number): number | null {
    const cached = this.medians.get(jobId);
    if (cached && now - cached.at < MEDIAN_REFRESH_MS && !(cached.stale && cached.median === null)) {
      this.peers.get(jobId)?.set(contributorId, now);
      return cached.median;
    }
    const perJob = this.training.get(jobId);
    const speeds: number[] = [];
    for (const id of this.recentPeers(jobId, contributorId, now)) {
      const t = perJob?.get(id);
      if (t && t.units >= MIN_MEASURED) speeds.push(t.speed);
    }
    speeds.sort((a, b) => a - b);
    const mid = speeds.length >> 1;
    const median = !speeds.length
      ? null
      : speeds.length % 2
        ? speeds[mid]
        : (speeds[mid - 1] + speeds[mid]) / 2;
    this.medians.set(jobId, { median, at: now, stale: false });
    return median;
  }

  /** The job ended here: what was kept about its tabs for sizing goes. */
  forgetJob(jobId: string): void {
    this.peers.delete(jobId);
    this.training.delete(jobId);
    this.medians.delete(jobId);
  }

  /** Jobs with sizing state kept (for tests). */
  get jobsKept(): number {
    return new Set([...this.peers.keys(), ...this.training.keys(), ...this.medians.keys()]).size;
  }

  /** The job's contributors leased a unit in the last PEER_WINDOW_MS, `contributorId` (leased now) included. */
  private recentPeers(jobId: string, contributorId: string, now: number): string[] {
    const peers = this.peers.get(jobId) ?? new Map<string, number>();
    this.peers.set(jobId, peers);
    peers.set(contributorId, now);
    const recent: string[] = [];
    for (const [id, at] of peers) {
      if (now - at > PEER_WINDOW_MS) peers.delete(id);
      else recent.push(id);
    }
    return recent;
  }

  /** How long a lease on a unit of `samples` lasts for this contributor. */
  leaseMs(contributorId: string, samples: number, policy: LeasePolicy): number {
    const sps = this.samplesPerSec(contributorId);
    if (sps === null) return policy.leaseMs;
    const expected = (samples / sps) * 1000;
    const trusted = (this.units.get(contributorId) ?? 0) >= MIN_MEASURED;
    const floor = trusted ? policy.leaseFloorMs : policy.leaseMs;
    return Math.round(Math.min(policy.leaseMs * MAX_STRETCH, Math.max(floor, policy.leaseMargin * expected)));
  }
}
