/**
 * Contributor actions on the HTTP API (admin only). Lifting a quarantine goes through its route
 * rather than a console event, so the route is the one implementation, with its role check.
 */
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
