/**
 * Cross-origin isolation for the contribute page, one small middleware kept apart from the
 * security headers. TF.js's wasm backend runs multi-threaded (SharedArrayBuffer) only on a
 * cross-origin-isolated page, so the contribute page gets COOP same-origin + COEP require-corp.
 * Nothing else does: the inference example, the console and apps embedding the SDK must keep
 * working un-isolated (COOP would cut them off from popups and openers they rely on).
 *
 * Resources that other pages load (TF.js's wasm binaries, hashed assets, model weights, shards)
 * say `Cross-Origin-Resource-Policy: cross-origin`, so an app that isolates its own page can still
 * load them from this coordinator; same-origin loads from the contribute page need no CORP.
 */
import type { MiddlewareHandler } from 'hono';

/** The contribute page: client/index.html, served at / (and by its file name). */
export const ISOLATED_PAGES = new Set(['/', '/index.html']);

/** Path prefixes of resources that pages on other origins may embed. */
export const SHARED_RESOURCES = ['/vendor/', '/assets/', '/models/', '/datasets/shards/'];

export function crossOriginIsolation(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const path = c.req.path;
    if (ISOLATED_PAGES.has(path)) {
      c.res.headers.set('Cross-Origin-Opener-Policy', 'same-origin');
      c.res.headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
    } else if (SHARED_RESOURCES.some((prefix) => path.startsWith(prefix))) {
      c.res.headers.set('Cross-Origin-Resource-Policy', 'cross-origin');
    }
  };
}
