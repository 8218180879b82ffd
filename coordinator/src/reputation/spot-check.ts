/**
 * Spot-checks: after an update of a job with `spotChecks` is accepted, the coordinator decides
 * (per contributor, policy.ts) whether to recompute the unit itself (recompute.ts) and compares
 * the two within the job's tolerance. Each check is stored with the replica's blob; closing a
 * round waits for its checks and then `screen`s its updates: a failed update is replaced by the
 * coordinator's replica (so only one of the two feeds aggregation and the unit's shards still
 * count once), and unchecked updates of a contributor quarantined meanwhile are left out.
 * Quarantined contributors are refused units and updates with QUARANTINED (scheduler hooks).
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
}

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
  private readonly quarantined = new Set<string>();
  /** Every contributor's record, mirrored from the store so views stay synchronous. */
  private readonly records = new Map<string, ReputationRecord>();
  private readonly pending = new Map<string, Set<Promise<void>>>();
  private readonly random: () => number;

  constructor(private readonly deps: SpotCheckDeps) {
    this.random = deps.random ?? Math.random;
  }

  /** Loads the quarantine list (after a start or a crash). */
  async init(): Promise<void> {
    for (const r of await this.deps.store.reputation.listReputations()) {
      this.records.set(r.contributorId, r);
      if (r.quarantined) this.quarantined.add(r.contributorId);
    }
  }

  view(contributorId: string): ReputationView {
    const r = this.records.get(contributorId);
    if (!r) return {};
    return {
      reputation: reputationOf(r),
      checks: { passed: r.checksPassed, failed: r.checksFailed },
      quarantined: r.quarantined,
    };
  }

  isQuarantined(contributorId: string): boolean {
    return this.quarantined.has(contributorId);
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
    const dataset = await store.getDataset(a.unit.datasetId);
    const [base, ...shards] = await Promise.all(
      [a.unit.baseWeightsHash, ...a.unit.shardHashes].map(async (h) => {
        const bytes = await blobs.get(h);
        if (!bytes) throw new Error(`blob ${h} is missing`);
        return bytes;
      }),
    );
    if (!dataset) throw new Error(`dataset ${a.unit.datasetId} is missing`);
    const replica = await recomputer.recompute(
      a.unit,
      bytesToFloat32(base),
      shards,
      dataset.numClasses,
      a.backend === 'webgpu',
    );
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
    this.records.set(rep.contributorId, rep);
    this.deps.onCheck?.(passed, rep);
    if (!passed) {
      log(
        `spot-check: ${a.record.contributorId} on ${a.record.unitId} is ${distance.toExponential(2)} from the replica (tolerance ${tolerance})`,
      );
    }
    if (!rep.quarantined && shouldQuarantine(rep)) {
      await store.reputation.setQuarantined(rep.contributorId, true, now);
      this.quarantined.add(rep.contributorId);
      this.records.set(rep.contributorId, { ...rep, quarantined: true, updatedAt: now });
      log(
        `spot-check: ${rep.contributorId} quarantined (${rep.checksPassed} passed, ${rep.checksFailed} failed)`,
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
    const out: UpdateRecord[] = [];
    for (const u of updates) {
      const check = checks.get(u.id);
      if (check && !check.passed) out.push({ ...u, blobHash: check.replicaHash });
      else if (check || !this.quarantined.has(u.contributorId)) out.push(u);
    }
    return out;
  }
}
