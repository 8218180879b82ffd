/**
 * Role checks for HTTP routes. No token or an unknown or revoked one is UNAUTHORIZED (401); a
 * valid token whose role may not do this is FORBIDDEN (403). The token itself never reaches a
 * log line or an error message.
 */
import { GridTabError } from '@gridtab/shared';
import type { MiddlewareHandler } from 'hono';
import { bearerToken, type Role, type TokenAuthority } from './tokens.ts';

export { tokenMatches } from './tokens.ts';

const RANK: Record<Role, number> = { viewer: 0, admin: 1 };

export function requireRole(tokens: TokenAuthority, role: Role): MiddlewareHandler {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new GridTabError('UNAUTHORIZED', `send Authorization: Bearer <${role} token>`);
    const who = await tokens.resolve(token);
    if (!who) throw new GridTabError('UNAUTHORIZED', 'the token is unknown or was revoked');
    if (RANK[who.role] < RANK[role])
      throw new GridTabError('FORBIDDEN', `a ${who.role} token may not do this; it needs ${role}`);
    await next();
  };
}
