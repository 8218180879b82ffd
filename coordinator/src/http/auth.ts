/**
 * Bearer-token check for admin routes. Tokens are compared through their sha256 digests with
 * timingSafeEqual, so the comparison takes the same time whatever the guess, and tokens are
 * never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GridTabError } from '@gridtab/shared';
import type { MiddlewareHandler } from 'hono';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function tokenMatches(sent: string, expected: string): boolean {
  return timingSafeEqual(digest(sent), digest(expected));
}

export function requireAdmin(adminToken: string): MiddlewareHandler {
  const expected = adminToken;
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) throw new GridTabError('UNAUTHORIZED', 'send Authorization: Bearer <admin token>');
    if (!tokenMatches(match[1].trim(), expected))
      throw new GridTabError('UNAUTHORIZED', 'the admin token is wrong');
    await next();
  };
}
