/**
 * Which pages may open a socket to this coordinator. Browsers send Origin on websocket upgrades
 * and on cross-origin polling requests; a page on another site that is not listed must not
 * drive contributors or the console from a visitor's browser. Requests without Origin (Node
 * contributors, curl) carry no browser credentials and are let through.
 */
import type { IncomingMessage } from 'node:http';

/** The hosts that count as this machine besides the request's own Host. */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (!origin) return true;
  if (allowed.includes('*')) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (allowed.includes(url.origin)) return true;
  // Default: same origin as the Host the request was sent to, or a localhost page.
  if (host && url.host === host) return true;
  return LOCAL_HOSTS.has(url.hostname);
}

export const requestOriginAllowed = (req: IncomingMessage, allowed: readonly string[]) =>
  originAllowed(req.headers.origin, req.headers.host, allowed);
