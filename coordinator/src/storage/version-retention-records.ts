/**
 * What version pruning keeps in the Store (migration 11). `versions.weights_state` is the mark:
 * NULL while the version's weights (and strategy state) are held, 'released' once the policy
 * pruned it (its blobs await the sweep), 'collected' once they are gone. The row itself stays
 * for good: lineage, metrics and the parent chain read it. One SQL text serves SQLite and
 * PostgreSQL (`?` placeholders, numbered for PostgreSQL).
 */

/** A pruned version whose blobs the sweep has yet to collect. */
export interface ReleasedWeights {
  versionId: string;
  hash: string;
  stateHash: string | null;
}

export interface VersionRetentionStore {
  /**
   * Version ids the store itself pins for `jobId`: every alias's target and canary (of any
   * model), and the base of every update whose blob is still held (the open round, rounds in
   * their grace, unsettled spot-checks recompute from that base).
   */
  pinned(jobId: string): Promise<Set<string>>;
  /**
   * Marks a held version pruned unless an alias names it, in one statement (so an alias moved
   * onto it before the mark keeps it). True when this call marked it.
   */
  prune(versionId: string, now: string): Promise<boolean>;
  /** Pruned versions whose blobs are not yet collected. */
  released(limit: number): Promise<ReleasedWeights[]>;
  /** Whether an alias (target or canary) names the version. */
  aliased(versionId: string): Promise<boolean>;
  /** Undoes a prune whose blobs are still there (an alias moved onto it meanwhile). */
  restore(versionId: string): Promise<void>;
  /** The sweep's last step for one version: its blobs are gone (or kept by another live row). */
  markCollected(versionId: string): Promise<void>;
  /** Whether `hash` names the weights of a pruned version (so a miss means pruned, not unknown). */
  prunedWeights(hash: string): Promise<boolean>;
}

export const PINNED_SQL = `SELECT version_id AS id FROM aliases
  UNION SELECT canary_version_id AS id FROM aliases WHERE canary_version_id IS NOT NULL
  UNION SELECT base_version_id AS id FROM updates WHERE job_id = ? AND blob_state IS NULL`;
export const PRUNE_SQL = `UPDATE versions SET weights_state = 'released', pruned_at = ?
  WHERE id = ? AND weights_state IS NULL
  AND NOT EXISTS (SELECT 1 FROM aliases WHERE version_id = ? OR canary_version_id = ?)`;
export const pruneParams = (id: string, now: string): unknown[] => [now, id, id, id];
export const RELEASED_WEIGHTS_SQL = `SELECT id, hash, state_hash FROM versions
  WHERE weights_state = 'released' ORDER BY id LIMIT ?`;
export const ALIASED_SQL = 'SELECT 1 AS hit FROM aliases WHERE version_id = ? OR canary_version_id = ?';
export const RESTORE_SQL = `UPDATE versions SET weights_state = NULL, pruned_at = NULL
  WHERE id = ? AND weights_state = 'released'`;
export const PRUNED_WEIGHTS_SQL =
  'SELECT 1 AS hit FROM versions WHERE hash = ? AND weights_state IS NOT NULL LIMIT 1';
export const COLLECTED_WEIGHTS_SQL = `UPDATE versions SET weights_state = 'collected'
  WHERE id = ? AND weights_state = 'released'`;
