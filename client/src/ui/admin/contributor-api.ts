/**
 * Contributor actions on the HTTP API (admin only). Lifting a quarantine goes through its route
 * rather than a console event, so the route is the one implementation, with its role check.
 */
import type { ErrorBody } from '@gridtab/shared';
import { call } from './token-api.ts';

export interface QuarantineRelease {
  id: string;
  /** False when it was not quarantined (any more): nothing changed. */
  released: boolean;
  reputation?: number;
  checks?: { passed: number; failed: number };
  quarantined?: boolean;
}

export const releaseQuarantine = (baseUrl: string, bearer: string, contributorId: string) =>
  call<QuarantineRelease>(
    baseUrl,
    bearer,
    'POST',
    `/api/contributors/${encodeURIComponent(contributorId)}/release-quarantine`,
  );

/** A contributor row of GET /api/contributors: stored counts and reputation, no live device. */
export interface StoredContributor {
  id: string;
  online: boolean;
  backend: string | null;
  unitsDone: number;
  samplesDone: number;
  lastSeen: string;
  reputation?: number;
  checks?: { passed: number; failed: number };
  quarantined?: boolean;
}

export interface ContributorPage {
  rows: StoredContributor[];
  /** Cursor of the next page (its X-Next-Cursor); null on the last. */
  next: string | null;
}

/** One page of contributors, most recently seen first; `cursor` from the previous page. */
export async function pageContributors(
  baseUrl: string,
  bearer: string,
  limit: number,
  cursor: string | null,
): Promise<ContributorPage> {
  const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
  const res = await fetch(new URL(`/api/contributors?${query}`, baseUrl), {
    headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' },
  });
  const json = (await res.json().catch(() => null)) as StoredContributor[] | { error?: ErrorBody } | null;
  if (!res.ok || !Array.isArray(json)) {
    const error = json && !Array.isArray(json) ? json.error : undefined;
    throw new Error(error ? `${error.code}: ${error.message}` : res.statusText);
  }
  return { rows: json, next: res.headers.get('x-next-cursor') };
}
