/**
 * The address a request comes from. Forwarded headers (X-Forwarded-For) are honoured only when
 * the direct peer is one of GRIDTAB_TRUSTED_PROXIES; anyone else could write any address there
 * and escape every per-address limit.
 */
import { isIP } from 'node:net';

/** `::ffff:10.0.0.1` and `10.0.0.1` are one address. */
export const normalizeAddress = (a: string) =>
  a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;

export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: readonly string[],
): string {
  const direct = normalizeAddress(peer ?? 'unknown');
  if (!forwardedFor || !trustedProxies.includes(direct)) return direct;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((h) => normalizeAddress(h.trim()))
    .filter((h) => isIP(h));
  // Walk from the nearest hop back past our own proxies: the first untrusted one is the client.
  for (let i = hops.length - 1; i >= 0; i--) if (!trustedProxies.includes(hops[i])) return hops[i];
  return hops[0] ?? direct;
}
