/**
 * The audit log of admin actions (docs/SECURITY.md): who (the token's label), what, on what,
 * when and from where. HTTP: one middleware on the API records every successful mutating
 * request made with a token, so routes added later are audited without touching them. Console
 * socket actions (kick, ban, unban) are recorded where they run.
 */
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Store } from '../storage/store.ts';
import type { Actor, SecurityGuard } from './guard.ts';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AuditDeps {
  store: Pick<Store, 'security'>;
  guard: SecurityGuard;
  clock: { now(): number };
  log: (msg: string) => void;
}

export async function recordAudit(
  deps: AuditDeps,
  entry: { actor: Actor; action: string; target: string; address: string; detail?: unknown },
): Promise<void> {
  try {
    await deps.store.security.appendAudit({
      at: new Date(deps.clock.now()).toISOString(),
      actor: entry.actor.label,
      action: entry.action,
      target: entry.target,
      address: entry.address,
      detail: entry.detail === undefined ? null : JSON.stringify(entry.detail).slice(0, 2000),
    });
  } catch (e) {
    // The action itself succeeded; a lost audit line is logged rather than undone.
    deps.log(`audit log write failed: ${(e as Error).message}`);
  }
}

/** The route pattern that answered (`/api/jobs/:id/:action`), not a middleware's `*`. */
const routeOf = (c: Parameters<MiddlewareHandler>[0]) =>
  matchedRoutes(c)
    .filter((r) => r.method !== 'ALL' && !r.path.endsWith('*'))
    .at(-1)?.path ?? c.req.path;

/**
 * After a mutating API request that a token authorised and that succeeded: action is the
 * method and route (`POST /api/jobs/:id/:action`), target the concrete path, or the id of what
 * a 201 created.
 */
export function auditMiddleware(deps: AuditDeps): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (!MUTATING.has(c.req.method) || c.res.status >= 400) return;
    const actor = deps.guard.actor(c);
    if (!actor) return;
    let target = c.req.path;
    if (c.res.status === 201 && c.res.headers.get('content-type')?.includes('json')) {
      const body = (await c.res
        .clone()
        .json()
        .catch(() => null)) as { id?: unknown } | null;
      if (typeof body?.id === 'string') target = body.id;
    }
    await recordAudit(deps, {
      actor,
      action: `${c.req.method} ${routeOf(c)}`,
      target,
      address: deps.guard.httpAddress(c),
      detail: { path: c.req.path, status: c.res.status },
    });
  };
}
