/**
 * Version pruning's marks (see version-retention-records.ts for the statements), run the same way
 * on SQLite and PostgreSQL through either store's executor.
 */
import type { Row } from '../rows.ts';
import {
  ALIASED_SQL,
  COLLECTED_WEIGHTS_SQL,
  PINNED_SQL,
  PRUNE_SQL,
  PRUNED_WEIGHTS_SQL,
  pruneParams,
  RELEASED_WEIGHTS_SQL,
  RESTORE_SQL,
  type ReleasedWeights,
  type VersionRetentionStore,
} from '../version-retention-records.ts';
import type { Sql } from './statement.ts';

const toReleased = (r: Row): ReleasedWeights => ({
  versionId: r.id as string,
  hash: r.hash as string,
  stateHash: (r.state_hash as string | null) ?? null,
});

export class VersionRetentionQueries implements VersionRetentionStore {
  constructor(private readonly sql: Sql) {}

  async pinned(jobId: string): Promise<Set<string>> {
    return new Set((await this.sql.all(PINNED_SQL, [jobId])).map((r) => r.id as string));
  }

  async prune(versionId: string, now: string): Promise<boolean> {
    return (await this.sql.run(PRUNE_SQL, pruneParams(versionId, now))) > 0;
  }

  async released(limit: number): Promise<ReleasedWeights[]> {
    return (await this.sql.all(RELEASED_WEIGHTS_SQL, [limit])).map(toReleased);
  }

  async aliased(versionId: string): Promise<boolean> {
    return (await this.sql.one(ALIASED_SQL, [versionId, versionId])) !== null;
  }

  async restore(versionId: string): Promise<void> {
    await this.sql.run(RESTORE_SQL, [versionId]);
  }

  async markCollected(versionId: string): Promise<void> {
    await this.sql.run(COLLECTED_WEIGHTS_SQL, [versionId]);
  }

  async prunedWeights(hash: string): Promise<boolean> {
    return (await this.sql.one(PRUNED_WEIGHTS_SQL, [hash])) !== null;
  }
}
