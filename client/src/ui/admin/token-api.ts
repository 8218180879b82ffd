/**
 * Token management over the HTTP API (/api/tokens, admin only). The console's own token is the
 * bearer; errors come back as `{ error: { code, message } }` and are thrown with both, so the
 * page can show them as they are.
 */
import type { ErrorBody } from '@gridtab/shared';

export interface TokenView {
  id: string;
  role: 'admin' | 'viewer';
  label: string;
  createdAt: string;
  revokedAt: string | null;
}

export async function call<T>(
  baseUrl: string,
  bearer: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => null)) as ({ error?: ErrorBody } & T) | null;
  if (!res.ok) {
    const detail = json?.error ? `${json.error.code}: ${json.error.message}` : res.statusText;
    throw new Error(detail);
  }
  return json as T;
}

export const listTokens = (baseUrl: string, bearer: string) =>
  call<TokenView[]>(baseUrl, bearer, 'GET', '/api/tokens');

export const createToken = (baseUrl: string, bearer: string, role: TokenView['role'], label: string) =>
  call<TokenView & { token: string }>(baseUrl, bearer, 'POST', '/api/tokens', { role, label });

export const revokeToken = (baseUrl: string, bearer: string, id: string) =>
  call<TokenView>(baseUrl, bearer, 'DELETE', `/api/tokens/${encodeURIComponent(id)}`);
