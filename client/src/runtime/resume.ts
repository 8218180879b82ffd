/**
 * What a tab keeps in its cache (IndexedDB in a browser) so a reload carries on instead of
 * starting over: the unit in progress with its latest checkpoint, and each job's codec residual
 * (top-k's error feedback). Shards and weights are already cached by hash (cache.ts).
 */
import type { BackendName, BackendScore, WorkUnit } from '@gridtab/shared';
import type { CodecState } from '@gridtab/shared/codecs';
import type { BlobCache } from './cache.ts';
import type { UnitCheckpoint } from './trainer.ts';

export interface SavedUnit {
  coordinatorUrl: string;
  unit: WorkUnit;
  /** The backends measured before the reload: a resuming tab skips the benchmark to rejoin fast. */
  backends: BackendScore[];
  chosenBackend: BackendName;
  checkpoint: UnitCheckpoint | null;
}

const UNIT_KEY = 'unit-in-progress';
const residualKey = (jobId: string) => `residual:${jobId}`;

export const loadSavedUnit = (cache: BlobCache) => cache.getState<SavedUnit>(UNIT_KEY);
export const saveUnit = (cache: BlobCache, saved: SavedUnit) => cache.putState(UNIT_KEY, saved);
export const clearSavedUnit = (cache: BlobCache) => cache.deleteState(UNIT_KEY);

/**
 * Whether a saved unit can be continued: saved against one of this runtime's coordinators and
 * its lease not yet past its deadline.
 */
export function resumable(
  saved: SavedUnit,
  coordinatorUrls: string | readonly string[],
  now: number,
): boolean {
  return [coordinatorUrls].flat().includes(saved.coordinatorUrl) && saved.unit.deadline > now;
}

export async function loadCodecState(cache: BlobCache, jobId: string): Promise<CodecState> {
  return (await cache.getState<CodecState>(residualKey(jobId))) ?? { residual: null };
}

export const saveCodecState = (cache: BlobCache, jobId: string, state: CodecState) =>
  cache.putState(residualKey(jobId), state);
