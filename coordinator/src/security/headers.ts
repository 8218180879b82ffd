/**
 * Security headers on every response (Hono's secureHeaders). The CSP keeps pages to their own
 * origin, allows WebAssembly compilation (`'wasm-unsafe-eval'`, which TF.js's wasm backend
 * needs; no JavaScript eval) and workers and worker scripts from blobs (TF.js starts its threads
 * so), and forbids framing, except for the inference example, which apps embed in their pages.
 */
import type { MiddlewareHandler } from 'hono';
import { type SecureHeadersVariables, secureHeaders } from 'hono/secure-headers';

/** Pages that other sites may frame. */
export const EMBEDDABLE_PREFIX = '/examples/';

function policy(
  frameAncestors: string[],
  tls: boolean,
): MiddlewareHandler<{ Variables: SecureHeadersVariables }> {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      // blob: because TF.js's threaded wasm workers importScripts() their Emscripten factory
      // from a blob the page made (a blob worker inherits the page's CSP); without it every
      // pthread worker fails to load and the wasm backend never starts. Only script already
      // running on the page can mint a blob: URL, so no other origin gains a way in.
      scriptSrc: ["'self'", "'wasm-unsafe-eval'", 'blob:'],
      workerSrc: ["'self'", 'blob:'],
      // 'self' covers same-origin ws:/wss: for socket.io in CSP level 3.
      connectSrc: ["'self'"],
      imgSrc: ["'self'", 'data:', 'blob:'],
      // Svelte sets style attributes; no script runs from them.
      styleSrc: ["'self'", "'unsafe-inline'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors,
    },
    xFrameOptions: frameAncestors.includes("'none'") ? 'DENY' : false,
    xContentTypeOptions: 'nosniff',
    // Apps on other origins fetch weights and model.json with CORS: same-origin CORP would
    // stop embedded inference.
    crossOriginResourcePolicy: false,
    // HSTS only where this process serves TLS itself: on plain http (a dev machine on
    // localhost) it would pin the browser to https for the whole host.
    strictTransportSecurity: tls ? 'max-age=15552000' : false,
  });
}

export function securityHeaders(tls: boolean): MiddlewareHandler {
  const strict = policy(["'none'"], tls);
  const embeddable = policy(['*'], tls);
  return (c, next) =>
    (c.req.path.startsWith(EMBEDDABLE_PREFIX) ? embeddable : strict)(
      c as never,
      next,
    ) as ReturnType<MiddlewareHandler>;
}
