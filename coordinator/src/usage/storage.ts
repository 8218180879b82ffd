/**
 * Storage held: per job (its versions' weights and strategy state, and the update blobs it
 * still holds) and in all (every blob). The coordinator-wide quota (GRIDTAB_STORAGE_QUOTA_BYTES)
 * refuses new jobs and dataset imports with STORAGE_QUOTA before the disk fills.
 */
import { GridTabError, type JobSpec } from '@gridtab/shared';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Store } from '../storage/store.ts';
import type { PriceTable } from './usage-config.ts';

export async function jobStorageBytes(store: Store, blobs: BlobStore, jobId: string): Promise<number> {
  const hashes = new Set<string>(await store.usage.heldUpdateBlobs(jobId));
  for (const v of await store.listVersions(jobId)) {
    if (v.pruned) continue; // its blobs are gone or about to be
    hashes.add(v.hash);
    if (v.stateHash) hashes.add(v.stateHash);
  }
  let total = 0;
  for (const h of hashes) total += (await blobs.size(h)) ?? 0;
  return total;
}

export async function totalStorageBytes(blobs: BlobStore): Promise<number> {
  let total = 0;
  for await (const b of blobs.list()) total += b.bytes;
  return total;
}

export class StorageQuota {
  constructor(
    private readonly blobs: BlobStore,
    readonly quotaBytes: number | null,
  ) {}

  /**
   * Throws STORAGE_QUOTA when storing `bytes` more would pass the quota. The dataset registry
   * calls it with an import's size before writing any shard; job creation with its weights.
   */
  async checkQuota(bytes: number): Promise<void> {
    if (this.quotaBytes === null) return;
    const held = await totalStorageBytes(this.blobs);
    if (held + bytes > this.quotaBytes)
      throw new GridTabError(
        'STORAGE_QUOTA',
        `${held} bytes are held and ${bytes} more would pass the storage quota of ${this.quotaBytes} bytes`,
      );
  }
}

/**
 * What a new job must pass beyond its spec's schema: a cost limit needs a price table to be
 * measured against (else INVALID_BUDGET), and its first weights must fit the storage quota.
 */
export function jobAdmission(quota: StorageQuota, prices: PriceTable | null) {
  return async (spec: JobSpec, initialBytes: number): Promise<void> => {
    if (spec.budget?.cost !== undefined && !prices)
      throw new GridTabError(
        'INVALID_BUDGET',
        'budget.cost needs a price table (GRIDTAB_PRICES); without one the cost cannot be measured',
      );
    await quota.checkQuota(initialBytes);
  };
}
