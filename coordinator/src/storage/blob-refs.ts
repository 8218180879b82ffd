/**
 * The one answer to "does a live row name this blob?", for every collector: a dataset
 * version's deletion (datasets/registry.ts) and retention's sweep (usage/retention.ts). A blob
 * is live while a model version, a held update, an imported model, a spot-check or a dataset
 * version names it. The rows are asked in one statement (Store.blobsInUse); dataset shards sit
 * in the datasets rows' JSON, so they are read from the records here.
 */
import type { Store } from './store.ts';

/** Hashes a statement asks about at once: SQLite binds at most 32,766 values, six per hash. */
const BATCH = 1000;

/** Which of `hashes` a live row names (a blob outside the set may be deleted). */
export async function referencedBlobs(
  store: Pick<Store, 'blobsInUse' | 'listDatasets'>,
  hashes: string[],
): Promise<Set<string>> {
  const wanted = [...new Set(hashes)];
  const live = new Set<string>();
  if (wanted.length === 0) return live;
  for (let i = 0; i < wanted.length; i += BATCH)
    for (const h of await store.blobsInUse(wanted.slice(i, i + BATCH))) live.add(h);
  const asked = new Set(wanted);
  for (const d of await store.listDatasets())
    for (const h of [...d.shardHashes, ...d.testHashes]) if (asked.has(h)) live.add(h);
  return live;
}
