/** Version pruning's marks on the embedded SQLite store (see version-retention-records.ts). */
import type Database from 'better-sqlite3';
import type { Row } from './rows.ts';
import {
  ALIASED_SQL,
  COLLECTED_WEIGHTS_SQL,
  PINNED_SQL,
  PRUNE_SQL,
  pruneParams,
  RELEASED_WEIGHTS_SQL,
  RESTORE_SQL,
  type ReleasedWeights,
  type VersionRetentionStore,
} from './version-retention-records.ts';

export const toReleased = (r: Row): ReleasedWeights => ({
  versionId: r.id as string,
  hash: r.hash as string,
  stateHash: (r.state_hash as string | null) ?? null,
});

export class SqliteVersionRetentionStore implements VersionRetentionStore {
  constructor(private readonly db: Database.Database) {}

  async pinned(jobId: string): Promise<Set<string>> {
    return new Set((this.db.prepare(PINNED_SQL).all(jobId) as Row[]).map((r) => r.id as string));
  }

  async prune(versionId: string, now: string): Promise<boolean> {
    return this.db.prepare(PRUNE_SQL).run(...pruneParams(versionId, now)).changes > 0;
  }

  async released(limit: number): Promise<ReleasedWeights[]> {
    return (this.db.prepare(RELEASED_WEIGHTS_SQL).all(limit) as Row[]).map(toReleased);
  }

  async aliased(versionId: string): Promise<boolean> {
    return this.db.prepare(ALIASED_SQL).get(versionId, versionId) !== undefined;
  }

  async restore(versionId: string): Promise<void> {
    this.db.prepare(RESTORE_SQL).run(versionId);
  }

  async markCollected(versionId: string): Promise<void> {
    this.db.prepare(COLLECTED_WEIGHTS_SQL).run(versionId);
  }
}
