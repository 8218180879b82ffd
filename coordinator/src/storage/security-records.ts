/**
 * What the coordinator keeps for defending itself (docs/SECURITY.md): the append-only audit log
 * of admin actions, keyset pages of contributors, and the cleanup of contributor rows that
 * joined and never did any work (a join flood must not grow the table for ever).
 */
import type { ContributorRecord } from './store.ts';

export interface AuditRecord {
  /** Assigned by the store, increasing; absent on append. */
  seq?: number;
  at: string;
  /** The token's label (`ADMIN_TOKEN`, `VIEWER_TOKEN`, or a stored token's label and id). */
  actor: string;
  /** `job.create`, `alias.move`, `token.revoke`... */
  action: string;
  /** The job, alias, token or contributor acted on. */
  target: string;
  /** Client address as the coordinator saw it (after trusted-proxy handling). */
  address: string;
  /** A short JSON detail (the new status, the version moved to...). */
  detail: string | null;
}

/** Position of the last contributor of a page, in `last_seen DESC, id DESC` order. */
export interface ContributorCursor {
  lastSeen: string;
  id: string;
}

export interface SecurityStore {
  appendAudit(entry: AuditRecord): Promise<void>;
  /** Newest first; `before` is the seq of the last entry of the previous page. */
  listAudit(limit: number, before: number | null): Promise<AuditRecord[]>;
  /** Contributors most recently seen first, from after `after`. */
  pageContributors(limit: number, after: ContributorCursor | null): Promise<ContributorRecord[]>;
  /**
   * Deletes contributors last seen before `seenBefore` that never finished a unit and have no
   * ban or reputation record (both must outlive the row); returns how many went.
   */
  deleteIdleContributors(seenBefore: string): Promise<number>;
}
