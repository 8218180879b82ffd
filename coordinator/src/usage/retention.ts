/**
 * Retention and blob garbage collection. An update's blob is needed until its version is
 * committed (the commit waits for the round's spot-checks, so they are settled then) and, with
 * GRIDTAB_RETAIN_UPDATES=after-commit, for `graceRounds` versions more; after that retention
 * marks the update rows released (the rows stay: lineage names them). Collection then sweeps:
 * each released blob is deleted only if no live row names it (a held update, a version, an
 * imported version, a spot-check replica, a dataset), re-checked just before the delete, and
 * its rows are marked collected after. A crash between any two steps leaves the blob (collected
 * next time) or no live row naming it, never a live row without its blob.
 *
 * Never touched: the open round's updates (their round is past every committed version),
 * spot-check replicas. Versions' weights only with a version policy (GRIDTAB_VERSION_RETENTION,
 * version-retention.ts), and never an aliased one's.
 */
import type { Counter } from 'prom-client';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Store } from '../storage/store.ts';
import type { RetainUpdates } from './usage-config.ts';
import { pruneVersions, sweepVersions, type VersionPolicy } from './version-retention.ts';

export interface RetentionDeps {
  store: Store;
  blobs: BlobStore;
  log: (msg: string) => void;
  policy: RetainUpdates;
  graceRounds: number;
  /** Version pruning; null or absent: every version's weights are kept. */
  versions?: VersionPolicy | null;
  /** ISO time for pruned_at (the coordinator's clock). */
  now?: () => string;
  metrics?: { blobsCollected: Counter; bytesCollected: Counter; versionsPruned: Counter };
}

export interface CollectionReport {
  released: number;
  /** Versions the version policy pruned in this run. */
  versionsPruned: number;
  blobsDeleted: number;
  bytesFreed: number;
}

/** Blobs swept per collection, so one run never holds the store for long. */
const SWEEP_BATCH = 500;

export class Retention {
  private running: Promise<CollectionReport> | null = null;

  constructor(private readonly deps: RetentionDeps) {}

  /** Marks what retention lets go, for every job (nothing under `keep`). */
  async mark(): Promise<number> {
    if (this.deps.policy === 'keep') return 0;
    const { store, graceRounds } = this.deps;
    let released = 0;
    for (const job of await store.listJobs()) {
      const versions = await store.listVersions(job.id);
      const committed = versions.reduce((m, v) => Math.max(m, v.round), 0);
      // Round r's updates went into version r; keep them `graceRounds` versions longer.
      const through = committed - graceRounds;
      if (through >= 1) released += await store.usage.releaseUpdateBlobs(job.id, through);
    }
    return released;
  }

  /** Marks the versions the version policy lets go (none without a policy). */
  async prune(): Promise<number> {
    const { versions, store, now } = this.deps;
    if (!versions) return 0;
    return pruneVersions(store, versions, now?.() ?? new Date().toISOString());
  }

  /** Deletes released blobs no live row names, then marks their rows collected. */
  async sweep(): Promise<Omit<CollectionReport, 'released' | 'versionsPruned'>> {
    const { store, blobs } = this.deps;
    let blobsDeleted = 0;
    let bytesFreed = 0;
    for (const hash of await store.usage.releasedBlobs(SWEEP_BATCH)) {
      // Another live row (a later update with the same bytes, a replica) keeps the blob.
      if (await store.usage.blobReferenced(hash)) {
        await store.usage.markCollected(hash);
        continue;
      }
      const size = await blobs.size(hash);
      if (size !== null && (await blobs.delete(hash))) {
        blobsDeleted++;
        bytesFreed += size;
      }
      await store.usage.markCollected(hash);
    }
    const v = await sweepVersions(store, blobs, SWEEP_BATCH, this.deps.log);
    return { blobsDeleted: blobsDeleted + v.blobsDeleted, bytesFreed: bytesFreed + v.bytesFreed };
  }

  /** One mark and sweep; concurrent calls share the run in progress. */
  collect(): Promise<CollectionReport> {
    this.running ??= (async () => {
      try {
        const released = await this.mark();
        const versionsPruned = await this.prune();
        const swept = await this.sweep();
        if (swept.blobsDeleted > 0 || released > 0 || versionsPruned > 0) {
          this.deps.log(
            `retention: ${released} update rows released, ${versionsPruned} versions pruned, ${swept.blobsDeleted} blobs deleted, ${swept.bytesFreed} bytes freed`,
          );
        }
        this.deps.metrics?.blobsCollected.inc(swept.blobsDeleted);
        this.deps.metrics?.bytesCollected.inc(swept.bytesFreed);
        this.deps.metrics?.versionsPruned.inc(versionsPruned);
        return { released, versionsPruned, ...swept };
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
