/**
 * What a tab keeps in its cache (IndexedDB in a browser) so a reload carries on instead of
 * starting over: the unit in progress with its latest checkpoint, and each job's codec residual
 * (top-k's error feedback). Shards and weights are already cached by hash (cache.ts).
 */
import type { BackendName, BackendScore, WorkUnit } from '@gridtab/shared';
import type { CodecState } from '@gridtab/shared/codecs';
import type { UnitCheckpoint } from '@gridtab/shared/trainer';
import type { BlobCache } from './cache.ts';

export interface SavedUnit {
  coordinatorUrl: string;
  unit: WorkUnit;
  /** The backends measured before the reload: a resuming tab skips the benchmark to rejoin fast. */
  backends: BackendScore[];
  chosenBackend: BackendName;
  checkpoint: UnitCheckpoint | null;
  /**
   * The identity the lease was issued to (the coordinator keys contributors by it): only a tab
   * with the same clientId (a reload keeps it) can deliver the unit. Absent in older saves.
   */
  clientId?: string;
  /** When it was last saved (epoch ms). Absent in older saves: the lease's deadline stands in. */
  savedAt?: number;
}

const UNIT_KEY = 'unit-in-progress';
const residualKey = (jobId: string) => `residual:${jobId}`;

/**
 * How old a saved unit may be and still be resumed. Past its lease's deadline the coordinator may
 * still use the result (its round is open and nobody delivered the unit) and refuses it otherwise;
 * past this, a round is most likely long closed and resuming would only waste the work.
 */
export const RESUME_WITHIN_MS = 3 * 3600_000;

export const loadSavedUnit = (cache: BlobCache) => cache.getState<SavedUnit>(UNIT_KEY);
export const saveUnit = (cache: BlobCache, saved: SavedUnit) => cache.putState(UNIT_KEY, saved);
export const clearSavedUnit = (cache: BlobCache) => cache.deleteState(UNIT_KEY);

/**
 * Whether a saved unit can be continued: saved against one of this runtime's coordinators, by
 * this identity, and not too long ago. A lease past its deadline may still be honoured late: the
 * coordinator decides, and a refusal then only means the tab came back too late.
 */
export function resumable(
  saved: SavedUnit,
  coordinatorUrls: string | readonly string[],
  clientId: string,
  now: number,
): 'yes' | 'other-coordinator' | 'other-tab' | 'too-old' {
  if (![coordinatorUrls].flat().includes(saved.coordinatorUrl)) return 'other-coordinator';
  if (saved.clientId !== undefined && saved.clientId !== clientId) return 'other-tab';
  return now - (saved.savedAt ?? saved.unit.deadline) <= RESUME_WITHIN_MS ? 'yes' : 'too-old';
}

/**
 * The unit this tab saved before a reload, if it may be continued; a unit that may not is
 * cleared, unless it is another tab's (tabs of one origin share the cache: left to that tab).
 */
export async function takeSavedUnit(
  cache: BlobCache,
  coordinatorUrls: string | readonly string[],
  clientId: string,
  log: (msg: string) => void,
): Promise<SavedUnit | null> {
  const saved = await loadSavedUnit(cache).catch(() => null);
  if (!saved) return null;
  const verdict = resumable(saved, coordinatorUrls, clientId, Date.now());
  if (verdict === 'yes') return saved;
  log(`saved unit ${saved.unit.unitId} not resumed (${verdict})`);
  if (verdict !== 'other-tab') await clearSavedUnit(cache);
  return null;
}

/** Refusals that only mean a resumed unit came back too late: its work is simply not used. */
export const TOO_LATE = new Set(['LEASE_UNKNOWN', 'STALE_VERSION', 'JOB_NOT_RUNNING']);

export async function loadCodecState(cache: BlobCache, jobId: string): Promise<CodecState> {
  return (await cache.getState<CodecState>(residualKey(jobId))) ?? { residual: null };
}

export const saveCodecState = (cache: BlobCache, jobId: string, state: CodecState) =>
  cache.putState(residualKey(jobId), state);
