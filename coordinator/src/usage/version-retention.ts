/**
 * Version pruning (GRIDTAB_VERSION_RETENTION, off by default). A model version's weights are
 * the bulk of what a long job stores (one blob a round), and most old ones are never read
 * again; but lineage, curves and sweeps read their rows, and some versions must stay loadable.
 * So pruning deletes only weights (and strategy state) and keeps the row, marked pruned.
 *
 * A job's version is kept when any of these holds (`keptVersions` says which reason):
 * - recent: it is among the job's last `keepLast` versions;
 * - head: the job's current version (a running round trains from it);
 * - origin: round 0, the initial weights (a run can be replayed from its lineage);
 * - best: the job's best by its test metric (accuracy, else R2, else loss);
 * - alias: an alias (target or canary) of any model points at it (also enforced by the store's
 *   prune statement, so it holds even against a concurrent move);
 * - rollback: an alias's rollback would move back to it;
 * - in-use: an update whose blob is still held was trained from it (the open round, rounds in
 *   their grace, and unsettled spot-checks, which recompute from that base);
 * - staleness: a buffered job's last maxStaleness+1 versions (a tab may still train on them);
 * - sweep: a sweep trial's best version or a rung version;
 * - parent: the parent of a head or in-use version (aggregation reads base minus parent).
 *
 * Pruning marks rows only; the sweep (retention.ts) deletes the blobs afterwards, re-checking
 * that no live row names them, so a crash anywhere leaves a blob for the next run or no live
 * row naming it. See docs/RETENTION.md.
 */
import { METRIC_GOAL, strategyOf } from '@gridtab/shared';
import type { BlobStore } from '../storage/blob-store.ts';
import type { JobRecord, Store, VersionRecord } from '../storage/store.ts';
import { progressOf, rungPlan, rungVersion } from '../sweeps/rungs.ts';
import { bestOf } from '../sweeps/views.ts';

export interface VersionPolicy {
  /** Versions per job kept however old they are (at least 1). */
  keepLast: number;
}

export type KeepReason =
  | 'recent'
  | 'head'
  | 'origin'
  | 'best'
  | 'alias'
  | 'rollback'
  | 'in-use'
  | 'staleness'
  | 'sweep'
  | 'parent';

/** Version ids kept for reasons outside the job's own versions, with the reason. */
export type Pins = Map<string, KeepReason>;

/** The job's best version by its test metric, or undefined when none has one. */
export function bestVersion(versions: VersionRecord[]): VersionRecord | undefined {
  const scored = versions.filter((v) => v.round > 0);
  for (const metric of ['testAccuracy', 'testR2', 'testLoss'] as const) {
    const sign = METRIC_GOAL[metric] === 'max' ? 1 : -1;
    let best: VersionRecord | undefined;
    for (const v of scored) {
      const value = v.metrics[metric];
      if (value == null || !Number.isFinite(value)) continue;
      if (!best || sign * value > sign * (best.metrics[metric] as number)) best = v;
    }
    if (best) return best;
  }
  return undefined;
}

/** Pure: which of one job's versions the policy keeps, each with its first reason. */
export function keptVersions(
  job: JobRecord,
  versions: VersionRecord[],
  policy: VersionPolicy,
  pins: Pins,
): Map<string, KeepReason> {
  const kept = new Map<string, KeepReason>();
  const keep = (id: string | null | undefined, why: KeepReason) => {
    if (id && !kept.has(id)) kept.set(id, why);
  };
  const byRound = [...versions].sort((a, b) => a.round - b.round);
  const byId = new Map(byRound.map((v) => [v.id, v]));
  keep(job.versionId, 'head');
  for (const v of byRound) if (pins.has(v.id)) keep(v.id, pins.get(v.id)!);
  // A base's parent: aggregation's history reads the step from parent to base.
  for (const [id, why] of [...kept])
    if (why === 'head' || why === 'in-use') keep(byId.get(id)?.parentId, 'parent');
  keep(byRound[0]?.round === 0 ? byRound[0].id : undefined, 'origin');
  keep(bestVersion(byRound)?.id, 'best');
  for (const v of byRound.slice(-Math.max(1, policy.keepLast))) keep(v.id, 'recent');
  const strategy = strategyOf(job.spec);
  if (strategy.name === 'buffered')
    for (const v of byRound.slice(-(strategy.maxStaleness + 1))) keep(v.id, 'staleness');
  return kept;
}

/** Rollback targets of every alias: the move `Registry.rollback` would restore. */
async function rollbackPins(store: Store, pins: Pins): Promise<void> {
  for (const m of await store.registry.listModels())
    for (const a of await store.registry.listAliases(m.name)) {
      const stack = [];
      for (const move of await store.registry.aliasHistory(m.name, a.alias)) {
        if (move.actor === 'rollback') stack.pop();
        else stack.push(move);
      }
      const target = stack.at(-2);
      if (target) pins.set(target.versionId, 'rollback');
      if (target?.canary) pins.set(target.canary.versionId, 'rollback');
    }
}

/** Every trial's best version and its rung versions, for every sweep. */
async function sweepPins(store: Store, pins: Pins): Promise<void> {
  for (const sweep of await store.sweeps.listSweeps()) {
    const spec = sweep.spec;
    const rungs = rungPlan(spec)?.thresholds.length ?? 0;
    for (const trial of await store.sweeps.listTrials(sweep.id)) {
      if (!trial.jobId) continue;
      const versions = await store.listVersions(trial.jobId);
      const best = bestOf(versions, spec);
      if (best) pins.set(best.versionId, 'sweep');
      const progress = progressOf(versions);
      for (let r = 0; r < rungs; r++) {
        const v = rungVersion(spec, progress, r);
        if (v) pins.set(v.id, 'sweep');
      }
    }
  }
}

/** Pins that span jobs: rollback targets and sweeps (aliases and in-use come per job). */
export async function globalPins(store: Store): Promise<Pins> {
  const pins: Pins = new Map();
  await rollbackPins(store, pins);
  await sweepPins(store, pins);
  return pins;
}

/** Marks every version the policy lets go as pruned; returns how many were marked. */
export async function pruneVersions(store: Store, policy: VersionPolicy, now: string): Promise<number> {
  const shared = await globalPins(store);
  let pruned = 0;
  for (const job of await store.listJobs()) {
    const pins: Pins = new Map(shared);
    const own = await store.versionRetention.pinned(job.id);
    // pinned() mixes aliases and in-use bases; the store's prune re-checks aliases itself.
    for (const u of own) if (!pins.has(u)) pins.set(u, 'in-use');
    const versions = await store.listVersions(job.id);
    const kept = keptVersions(job, versions, policy, pins);
    for (const v of versions) {
      if (v.pruned || kept.has(v.id)) continue;
      if (await store.versionRetention.prune(v.id, now)) pruned++;
    }
  }
  return pruned;
}

/**
 * Deletes the blobs of pruned versions that no live row names, then marks them collected. A
 * version an alias moved onto meanwhile is restored if its blobs are all still there.
 */
export async function sweepVersions(
  store: Store,
  blobs: BlobStore,
  limit: number,
  log: (msg: string) => void,
): Promise<{ blobsDeleted: number; bytesFreed: number }> {
  let blobsDeleted = 0;
  let bytesFreed = 0;
  for (const r of await store.versionRetention.released(limit)) {
    const hashes = [r.hash, ...(r.stateHash ? [r.stateHash] : [])];
    if (await store.versionRetention.aliased(r.versionId)) {
      const present = await Promise.all(hashes.map((h) => blobs.has(h)));
      if (present.every(Boolean)) await store.versionRetention.restore(r.versionId);
      else log(`retention: alias names pruned version ${r.versionId}, whose weights are gone`);
      continue;
    }
    for (const h of hashes) {
      // A held version with the same bytes (a zero step), an update, a dataset keeps the blob.
      if (await store.usage.blobReferenced(h)) continue;
      const size = await blobs.size(h);
      if (size !== null && (await blobs.delete(h))) {
        blobsDeleted++;
        bytesFreed += size;
      }
    }
    await store.versionRetention.markCollected(r.versionId);
  }
  return { blobsDeleted, bytesFreed };
}
