/** Contributors, their bans and the API tokens: the statements both stores run. */
import type { TokenRecord } from '../store.ts';

export const CONTRIBUTORS_SQL = {
  /** A new client gets `id`; a known one keeps its id and takes the new backend. */
  upsertContributor: `INSERT INTO contributors (id, client_id, backend, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (client_id) DO UPDATE SET backend = excluded.backend, last_seen = excluded.last_seen
    RETURNING *`,
  recordContribution:
    'UPDATE contributors SET units_done = units_done + 1, samples_done = samples_done + ?, last_seen = ? WHERE id = ?',
  listContributors: 'SELECT * FROM contributors ORDER BY last_seen DESC',
  /** A second ban replaces the first one's reason and time. */
  banContributor: `INSERT INTO contributor_bans (contributor_id, reason, banned_at) VALUES (?, ?, ?)
    ON CONFLICT (contributor_id) DO UPDATE SET reason = excluded.reason, banned_at = excluded.banned_at`,
  unbanContributor: 'DELETE FROM contributor_bans WHERE contributor_id = ?',
  getBan: 'SELECT * FROM contributor_bans WHERE contributor_id = ?',
  listBans: 'SELECT * FROM contributor_bans ORDER BY banned_at',
  insertToken:
    'INSERT INTO api_tokens (id, role, label, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
  findTokenByHash: 'SELECT * FROM api_tokens WHERE hash = ?',
  listTokens: 'SELECT * FROM api_tokens ORDER BY created_at, id',
  revokeToken: 'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
} as const;

export const tokenValues = (t: TokenRecord): unknown[] => [
  t.id,
  t.role,
  t.label,
  t.hash,
  t.createdAt,
  t.revokedAt,
];
