/**
 * Read-only calls to the coordinator's HTTP API used by the pages. Errors come back as
 * `{ error: { code, message } }` (shared/src/errors.ts); they are turned into thrown Errors whose
 * message names the code, because the pages only show them, never branch on them.
 */
import type { ErrorBody, JobView, VersionView } from '@gridtab/shared';

async function getJson<T>(baseUrl: string, path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(new URL(path, baseUrl), { signal, headers: { accept: 'application/json' } });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: ErrorBody } | null;
    const detail = body?.error ? `${body.error.code}: ${body.error.message}` : res.statusText;
    throw new Error(`GET ${path} failed (${res.status} ${detail})`);
  }
  return (await res.json()) as T;
}

export const fetchJobs = (baseUrl: string, signal?: AbortSignal) =>
  getJson<JobView[]>(baseUrl, '/api/jobs', signal);

/** Versions of one job, oldest first. */
export const fetchVersions = (baseUrl: string, jobId: string, signal?: AbortSignal) =>
  getJson<VersionView[]>(baseUrl, `/api/jobs/${encodeURIComponent(jobId)}/versions`, signal);
