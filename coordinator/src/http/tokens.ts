/**
 * Bearer tokens and their roles. Two come from the environment (ADMIN_TOKEN, VIEWER_TOKEN);
 * more are created and revoked through the API and kept in the store as sha256 digests only,
 * so a copy of the database gives nobody a working token. Tokens are never logged.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Store, TokenRecord } from '../storage/store.ts';

export const ROLES = ['admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenIdentity {
  /** `env:admin`, `env:viewer`, or the id of a stored token. */
  id: string;
  role: Role;
  /** ADMIN_TOKEN, VIEWER_TOKEN, or a stored token's label: who did it, in records. */
  label: string;
}

export const digestToken = (token: string) => createHash('sha256').update(token).digest();
const hexDigest = (token: string) => digestToken(token).toString('hex');

/** Constant-time comparison: both sides are hashed first so lengths never leak either. */
export function tokenMatches(sent: string, expected: string): boolean {
  return timingSafeEqual(digestToken(sent), digestToken(expected));
}

export class TokenAuthority {
  private readonly seeded: { token: string; role: Role }[];

  constructor(
    private readonly store: Store,
    env: { adminToken: string; viewerToken?: string | null },
  ) {
    this.seeded = [{ token: env.adminToken, role: 'admin' }];
    if (env.viewerToken) this.seeded.push({ token: env.viewerToken, role: 'viewer' });
  }

  /** The identity a token stands for, or null when it is unknown or revoked. */
  async resolve(token: string): Promise<TokenIdentity | null> {
    if (!token) return null;
    // Compare against every seeded token, without stopping early, so timing says nothing.
    let found: TokenIdentity | null = null;
    for (const s of this.seeded) {
      if (tokenMatches(token, s.token) && !found)
        found = { id: `env:${s.role}`, role: s.role, label: `${s.role.toUpperCase()}_TOKEN` };
    }
    if (found) return found;
    // Stored tokens are looked up by their digest: a guess changes the digest unpredictably,
    // so the index lookup's timing cannot be steered towards a real token.
    const record = await this.store.findTokenByHash(hexDigest(token));
    if (!record || record.revokedAt) return null;
    return { id: record.id, role: record.role, label: record.label };
  }

  /** Creates a token; the secret is returned once and only its digest is stored. */
  async create(role: Role, label: string, now: string): Promise<{ record: TokenRecord; token: string }> {
    const token = `gt_${randomBytes(24).toString('base64url')}`;
    const record: TokenRecord = {
      id: `t-${randomUUID()}`,
      role,
      label,
      hash: hexDigest(token),
      createdAt: now,
      revokedAt: null,
    };
    await this.store.insertToken(record);
    return { record, token };
  }
}

/** The token in an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined | null): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1] : null;
}
