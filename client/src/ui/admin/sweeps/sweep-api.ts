/**
 * Sweeps over the HTTP API (/api/sweeps). Reads need no token; creating, cancelling and
 * promoting need the console's admin token. Errors are thrown as `CODE: message`.
 */
import type { ErrorBody, SweepSpecInput, SweepView } from '@gridtab/shared';

async function call<T>(baseUrl: string, bearer: string | null, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers: {
      accept: 'application/json',
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => null)) as ({ error?: ErrorBody } & T) | null;
  if (!res.ok) throw new Error(json?.error ? `${json.error.code}: ${json.error.message}` : res.statusText);
  return json as T;
}

export const listSweeps = (baseUrl: string) => call<SweepView[]>(baseUrl, null, 'GET', '/api/sweeps');

export const getSweep = (baseUrl: string, id: string) =>
  call<SweepView>(baseUrl, null, 'GET', `/api/sweeps/${encodeURIComponent(id)}`);

export const createSweep = (baseUrl: string, bearer: string, spec: SweepSpecInput) =>
  call<SweepView>(baseUrl, bearer, 'POST', '/api/sweeps', spec);

export const cancelSweep = (baseUrl: string, bearer: string, id: string) =>
  call<SweepView>(baseUrl, bearer, 'POST', `/api/sweeps/${encodeURIComponent(id)}/cancel`);

export const promoteBest = (baseUrl: string, bearer: string, id: string, alias: string) =>
  call<{ model: string; alias: string; versionId: string }>(
    baseUrl,
    bearer,
    'POST',
    `/api/sweeps/${encodeURIComponent(id)}/promote`,
    { alias },
  );
