/**
 * Spot-checks: after an update of a job with `spotChecks` is accepted, the coordinator decides
 * (per contributor, policy.ts) whether to recompute the unit itself (recompute.ts) and compares
 * the two within the job's tolerance. Each check is stored with the replica's blob; closing a
 * round waits for its checks and then `screen`s its updates: a failed update is replaced by the
 * coordinator's replica (so only one of the two feeds aggregation and the unit's shards still
 * count once), and unchecked updates of a contributor quarantined meanwhile are left out.
 * Quarantined contributors are refused units and updates with QUARANTINED (scheduler hooks).
 *
 * The store is the truth about quarantine: several coordinator processes share it (PostgreSQL),
 * and any of them may quarantine a contributor (a failed check) or lift it (an admin). Asking it
 * on every unit request would put a database round trip on the hot path, so each process keeps
 * what it read per contributor for QUARANTINE_TTL_MS. With REDIS_URL a change made here (an
 * admin's release, a quarantine after a failed check) is published, and every process forgets its
 * copy at once (cluster/job-control.ts): the release is answered after that. A lost message
 * still takes effect within the TTL.
 */
import type { JobSpec, WorkUnit } from '@gridtab/shared';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import type { Clock } from '../clock.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { ReputationRecord } from '../storage/reputation-records.ts';
import type { Store, UpdateRecord } from '../storage/store.ts';
import { checkRate, reputationOf, shouldQuarantine } from './policy.ts';
import { type Recomputer, relativeDistance } from './recompute.ts';

export interface SpotCheckDeps {
  store: Store;
  blobs: BlobStore;
  clock: Clock;
  recomputer: Recomputer;
  /** Uniform in [0, 1): decides which units are checked (seeded in tests). */
  random?: () => number;
  log: (msg: string) => void;
  /** Told of every finished check (metrics). */
  onCheck?: (passed: boolean, reputation: ReputationRecord) => void;
  /** How long a read of a contributor's record is trusted (default QUARANTINE_TTL_MS). */
  quarantineTtlMs?: number;
}

/** A few seconds: short enough for an admin's release or another process's quarantine to feel immediate. */
export const QUARANTINE_TTL_MS = 5_000;

export interface AcceptedUpdate {
  spec: JobSpec;
  record: UpdateRecord;
  unit: WorkUnit;
  /** The backend the tab says it trained on: a webgpu tab's replica runs the fused loss's code path. */
  backend: string | null;
  delta: Float32Array;
}

/** What the API and the console show of a contributor's checks (all absent: never checked). */
export interface ReputationView {
  reputation?: number;
  checks?: { passed: number; failed: number };
  quarantined?: boolean;
}

export class SpotChecks {
  /** What this process last knew of each contributor's record (null: none in the store). */
  private readonly cache = new Map<string, Cached>();
  /** One store read per contributor at a time, however many requests wait on it. */
  private readonly reading = new Map<string, Promise<ReputationRecord | null>>();
  /** Orders reads and local writes, so a read that started before a write cannot undo it. */
  private seq = 0;
  private readonly pending = new Map<string, Set<Promise<void>>>();
  private readonly random: () => number;
  private readonly ttlMs: number;

  /** With several processes: publishes a change of a record made here; resolves once all forgot it. */
  private announce: ((contributorId: string) => Promise<void>) | null = null;

  constructor(private readonly deps: SpotCheckDeps) {
    this.random = deps.random ?? Math.random;
    this.ttlMs = deps.quarantineTtlMs ?? QUARANTINE_TTL_MS;
  }

  /** Wires the publishing of record changes (app.ts, once the Redis adapter is attached). */
  announceWith(announce: (contributorId: string) => Promise<void>): void {
    this.announce = announce;
  }

  /**
   * Another process changed the contributor's record: the next question reads the store, and
   * a read begun before now is not kept.
   */
  forget(contributorId: string): void {
    this.reading.delete(contributorId);
    this.cache.set(contributorId, { record: null, seq: ++this.seq, readAt: Number.NEGATIVE_INFINITY });
  }

  /** Reads every record once (after a start or a crash), so the first requests need no round trip. */
  async init(): Promise<void> {
    const seq = ++this.seq;
    const readAt = this.deps.clock.now();
    for (const r of await this.deps.store.reputation.listReputations())
      this.remember(r.contributorId, r, seq, readAt);
  }

  /** What the API and the console show, for every contributor with a record, read from the store. */
  async views(): Promise<Map<string, ReputationView>> {
    const seq = ++this.seq;
    const readAt = this.deps.clock.now();
    const out = new Map<string, ReputationView>();
    for (const r of await this.deps.store.reputation.listReputations()) {
      this.remember(r.contributorId, r, seq, readAt);
      out.set(r.contributorId, viewOf(r));
    }
    return out;
  }

  /** Whether the contributor is quarantined, as the store said at most the TTL ago. */
  async isQuarantined(contributorId: string): Promise<boolean> {
    return (await this.record(contributorId))?.quarantined ?? false;
  }

  /**
   * Lifts a quarantine (an admin's decision): the record goes back to probation, so the
   * contributor's next units are all checked and one more failure quarantines it again. Returns
   * the record as it was, or null (nothing changed) when the contributor was not quarantined.
   */
  async release(
    contributorId: string,
  ): Promise<{ before: ReputationRecord; after: ReputationRecord } | null> {
    const { store, clock } = this.deps;
    const before = await store.reputation.getReputation(contributorId);
    if (!before?.quarantined) return null;
    const after = await store.reputation.releaseQuarantine(
      contributorId,
      new Date(clock.now()).toISOString(),
    );
    if (!after) return null; // released by someone else in between
    this.remember(contributorId, after, ++this.seq, clock.now());
    // Every process, the owners of the contributor's jobs among them, lets it work again now.
    await this.announce?.(contributorId);
    return { before, after };
  }

  private async record(contributorId: string): Promise<ReputationRecord | null> {
    const cached = this.cache.get(contributorId);
    if (cached && this.deps.clock.now() - cached.readAt < this.ttlMs) return cached.record;
    let reading = this.reading.get(contributorId);
    if (!reading) {
      const seq = ++this.seq;
      const readAt = this.deps.clock.now();
      reading = this.deps.store.reputation
        .getReputation(contributorId)
        .then((r) => this.remember(contributorId, r, seq, readAt))
        .finally(() => this.reading.delete(contributorId));
      this.reading.set(contributorId, reading);
    }
    return reading;
  }

  /** Keeps what was read or written unless something newer is already known; returns what is kept. */
  private remember(
    contributorId: string,
    record: ReputationRecord | null,
    seq: number,
    readAt: number,
  ): ReputationRecord | null {
    const cached = this.cache.get(contributorId);
    if (cached && cached.seq > seq) return cached.record;
    this.cache.set(contributorId, { record, seq, readAt });
    return record;
  }

  /** Decides whether to check an accepted update and starts the check; never throws. */
  async afterAccept(a: AcceptedUpdate): Promise<void> {
    const settings = a.spec.spotChecks;
    if (!settings) return;
    const key = `${a.record.jobId}#${a.record.round}`;
    const run = (async () => {
      const rep = await this.deps.store.reputation.getReputation(a.record.contributorId);
      if (this.random() >= checkRate(rep, settings.minRate)) return;
      await this.check(a, settings.tolerance);
    })().catch((e) =>
      this.deps.log(`spot-check of ${a.record.unitId} failed to run: ${(e as Error).message}`),
    );
    const set = this.pending.get(key) ?? new Set();
    set.add(run);
    this.pending.set(key, set);
    await run;
  }

  private async check(a: AcceptedUpdate, tolerance: number): Promise<void> {
    const { store, blobs, clock, recomputer, log } = this.deps;
    const [base, ...shards] = await Promise.all(
      [a.unit.baseWeightsHash, ...a.unit.shardHashes].map(async (h) => {
        const bytes = await blobs.get(h);
        if (!bytes) throw new Error(`blob ${h} is missing`);
        return bytes;
      }),
    );
    const replica = await recomputer.recompute(a.unit, bytesToFloat32(base), shards, a.backend === 'webgpu');
    const distance = relativeDistance(a.delta, replica);
    const passed = distance <= tolerance;
    const replicaHash = await blobs.put(
      new Uint8Array(replica.buffer, replica.byteOffset, replica.byteLength),
    );
    const now = new Date(clock.now()).toISOString();
    const rep = await store.reputation.recordCheck({
      updateId: a.record.id,
      jobId: a.record.jobId,
      round: a.record.round,
      unitId: a.record.unitId,
      contributorId: a.record.contributorId,
      backend: a.backend,
      passed,
      distance,
      replicaHash,
      createdAt: now,
    });
    this.remember(rep.contributorId, rep, ++this.seq, clock.now());
    this.deps.onCheck?.(passed, rep);
    if (!passed) {
      log(
        `spot-check: ${a.record.contributorId} on ${a.record.unitId} is ${distance.toExponential(2)} from the replica (tolerance ${tolerance})`,
      );
    }
    if (!rep.quarantined && shouldQuarantine(rep)) {
      await store.reputation.setQuarantined(rep.contributorId, true, now);
      this.remember(
        rep.contributorId,
        { ...rep, quarantined: true, updatedAt: now },
        ++this.seq,
        clock.now(),
      );
      log(
        `spot-check: ${rep.contributorId} quarantined (${rep.checksPassed} passed, ${rep.checksFailed} failed)`,
      );
      // The other processes refuse it too from now on, not after their copies' TTL.
      await this.announce?.(rep.contributorId).catch((e) =>
        log(
          `spot-check: the quarantine of ${rep.contributorId} did not reach every process: ${(e as Error).message}`,
        ),
      );
    }
  }

  /**
   * After the round's checks settle: the updates aggregation uses, a failed one replaced by its
   * replica, unchecked ones of quarantined contributors left out.
   */
  async screen(jobId: string, round: number, updates: UpdateRecord[]): Promise<UpdateRecord[]> {
    const key = `${jobId}#${round}`;
    const pending = this.pending.get(key);
    if (pending) await Promise.all(pending);
    this.pending.delete(key);
    const checks = new Map(
      (await this.deps.store.reputation.listChecks(jobId, round)).map((c) => [c.updateId, c]),
    );
    const quarantined = new Set<string>();
    for (const id of new Set(updates.map((u) => u.contributorId)))
      if (await this.isQuarantined(id)) quarantined.add(id);
    const out: UpdateRecord[] = [];
    for (const u of updates) {
      const check = checks.get(u.id);
      if (check && !check.passed) out.push({ ...u, blobHash: check.replicaHash });
      else if (check || !quarantined.has(u.contributorId)) out.push(u);
    }
    return out;
  }
}

interface Cached {
  record: ReputationRecord | null;
  /** Orders it against other reads and writes of this process. */
  seq: number;
  /** Clock time the read started (or the write happened): the TTL counts from here. */
  readAt: number;
}

export function viewOf(r: ReputationRecord): ReputationView {
  return {
    reputation: reputationOf(r),
    checks: { passed: r.checksPassed, failed: r.checksFailed },
    quarantined: r.quarantined,
  };
}
