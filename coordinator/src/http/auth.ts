/**
 * Role checks for HTTP routes. No token or an unknown or revoked one is UNAUTHORIZED (401); a
 * valid token whose role may not do this is FORBIDDEN (403). Wrong tokens are counted per
 * client address: past the limit every attempt from there, right or wrong, answers 429
 * RATE_LIMITED with Retry-After until the bucket refills, so tokens cannot be guessed at speed.
 * The token itself never reaches a log line or an error message.
 */
import { GridTabError } from '@gridtab/shared';
import type { MiddlewareHandler } from 'hono';
import type { SecurityGuard } from '../security/guard.ts';
import { errorResponse } from './errors.ts';
import { bearerToken, type Role, type TokenAuthority } from './tokens.ts';

export { tokenMatches } from './tokens.ts';

const RANK: Record<Role, number> = { viewer: 0, admin: 1 };

export function requireRole(tokens: TokenAuthority, role: Role, guard?: SecurityGuard): MiddlewareHandler {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new GridTabError('UNAUTHORIZED', `send Authorization: Bearer <${role} token>`);
    const address = guard?.httpAddress(c) ?? '';
    const limited = (retryAfterMs: number) => {
      c.header('retry-after', String(Math.ceil(retryAfterMs / 1000)));
      return errorResponse(
        c,
        'RATE_LIMITED',
        'too many failed token attempts from this address; retry later',
        429,
      );
    };
    const open = await guard?.authFailures.peek(address);
    if (open && !open.ok) return limited(open.retryAfterMs);
    const who = await tokens.resolve(token);
    if (!who) {
      const taken = await guard?.authFailures.take(address);
      if (taken && !taken.ok) return limited(taken.retryAfterMs);
      throw new GridTabError('UNAUTHORIZED', 'the token is unknown or was revoked');
    }
    if (RANK[who.role] < RANK[role])
      throw new GridTabError('FORBIDDEN', `a ${who.role} token may not do this; it needs ${role}`);
    guard?.setActor(c, { label: who.label ?? who.id, role: who.role });
    await next();
  };
}
