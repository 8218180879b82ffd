/** Version pruning's marks on PostgreSQL (see version-retention-records.ts): the same SQL, numbered. */
import type pg from 'pg';
import type { Row } from '../rows.ts';
import { toReleased } from '../sqlite-retention.ts';
import { numbered } from '../usage-records.ts';
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
} from '../version-retention-records.ts';

const PINNED = numbered(PINNED_SQL);
const PRUNE = numbered(PRUNE_SQL);
const RELEASED = numbered(RELEASED_WEIGHTS_SQL);
const ALIASED = numbered(ALIASED_SQL);
const RESTORE = numbered(RESTORE_SQL);
const COLLECTED = numbered(COLLECTED_WEIGHTS_SQL);

export class PgVersionRetentionStore implements VersionRetentionStore {
  constructor(private readonly pool: pg.Pool) {}

  async pinned(jobId: string): Promise<Set<string>> {
    return new Set(((await this.pool.query(PINNED, [jobId])).rows as Row[]).map((r) => r.id as string));
  }

  async prune(versionId: string, now: string): Promise<boolean> {
    return ((await this.pool.query(PRUNE, pruneParams(versionId, now))).rowCount ?? 0) > 0;
  }

  async released(limit: number): Promise<ReleasedWeights[]> {
    return ((await this.pool.query(RELEASED, [limit])).rows as Row[]).map(toReleased);
  }

  async aliased(versionId: string): Promise<boolean> {
    return ((await this.pool.query(ALIASED, [versionId, versionId])).rowCount ?? 0) > 0;
  }

  async restore(versionId: string): Promise<void> {
    await this.pool.query(RESTORE, [versionId]);
  }

  async markCollected(versionId: string): Promise<void> {
    await this.pool.query(COLLECTED, [versionId]);
  }
}
