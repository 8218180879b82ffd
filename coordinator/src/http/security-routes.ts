/**
 * Paged reads that a flood must not make unbounded: GET /api/contributors (keyset pages by last
 * seen; the body keeps its old shape, an array, and the next page's cursor travels in the
 * `X-Next-Cursor` header and a `Link: <...>; rel="next"`), and GET /api/audit (admin and viewer
 * tokens), the audit log newest first.
 */
import { GridTabError } from '@gridtab/shared';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Coordinator } from '../app.ts';
import type { ContributorCursor } from '../storage/security-records.ts';
import { errorSchema, json, publicAccess, security } from './openapi-parts.ts';

export const DEFAULT_PAGE = 200;
export const MAX_PAGE = 1000;

const contributorSchema = z
  .object({
    id: z.string(),
    online: z.boolean(),
    backend: z.string().nullable(),
    unitsDone: z.number(),
    samplesDone: z.number(),
    lastSeen: z.string(),
    /** Spot-check agreement, 0..1; absent until the contributor's first check. */
    reputation: z.number().optional(),
    checks: z.object({ passed: z.number(), failed: z.number() }).optional(),
    quarantined: z.boolean().optional(),
  })
  .openapi('Contributor');
const auditSchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    target: z.string(),
    address: z.string(),
    detail: z.string().nullable(),
  })
  .openapi('AuditEntry');
const limit = z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE);

/** Cursors are opaque to clients: base64url of the last row's sort key. */
const encodeCursor = (c: ContributorCursor) =>
  Buffer.from(JSON.stringify([c.lastSeen, c.id])).toString('base64url');
function decodeCursor(text: string): ContributorCursor {
  try {
    const [lastSeen, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof lastSeen === 'string' && typeof id === 'string' && lastSeen.length < 100 && id.length < 200)
      return { lastSeen, id };
  } catch {
    // falls through to the error below
  }
  throw new GridTabError('BAD_REQUEST', 'cursor: not a cursor this coordinator gave');
}

export function addSecurityRoutes(
  api: OpenAPIHono,
  co: Pick<Coordinator, 'store' | 'onlineContributors' | 'spotChecks'>,
  viewer: MiddlewareHandler,
) {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/contributors',
      operationId: 'listContributors',
      summary: 'List contributors and their reputation, a page at a time',
      security: publicAccess,
      request: {
        query: z.object({
          limit,
          cursor: z
            .string()
            .max(400)
            .optional()
            .openapi({ description: 'X-Next-Cursor of the previous page' }),
        }),
      },
      responses: {
        200: {
          ...json(z.array(contributorSchema), 'Contributors, most recently seen first, one page'),
          headers: {
            'X-Next-Cursor': {
              schema: { type: 'string' },
              description: 'Cursor of the next page; absent on the last',
            },
          },
        },
        400: json(errorSchema, 'A bad limit or cursor (BAD_REQUEST)'),
      },
    }),
    async (c) => {
      const { limit: n, cursor } = c.req.valid('query');
      // One more than asked tells whether a next page exists.
      const rows = await co.store.security.pageContributors(n + 1, cursor ? decodeCursor(cursor) : null);
      const page = rows.slice(0, n);
      if (rows.length > n) {
        const last = page[page.length - 1];
        const next = encodeCursor({ lastSeen: last.lastSeen, id: last.id });
        c.header('x-next-cursor', next);
        c.header('link', `</api/contributors?limit=${n}&cursor=${next}>; rel="next"`);
      }
      const online = co.onlineContributors();
      const reputations = await co.spotChecks.views();
      return c.json(
        page.map((r) => ({
          id: r.id,
          online: online.has(r.id),
          backend: r.backend,
          unitsDone: r.unitsDone,
          samplesDone: r.samplesDone,
          lastSeen: r.lastSeen,
          ...reputations.get(r.id),
        })),
        200,
      );
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      operationId: 'listAuditLog',
      summary: 'The audit log of admin actions',
      description:
        'Every successful admin action (job create, pause, resume, cancel; alias moves and rollbacks; model import; sweeps; token create and revoke; quarantine release; console kick, ban, unban): who (token label), what, target, when, from which address. Newest first; pass `before` = the last seq of a page for the next one. Append-only: the store refuses updates and deletes.',
      security,
      middleware: [viewer] as const,
      request: {
        query: z.object({ limit, before: z.coerce.number().int().min(1).optional() }),
      },
      responses: {
        200: json(
          z.object({ entries: z.array(auditSchema), nextBefore: z.number().int().nullable() }),
          'A page of the audit log; nextBefore is null on the last page',
        ),
        400: json(errorSchema, 'A bad limit or before (BAD_REQUEST)'),
        401: json(errorSchema, 'No, unknown or revoked token (UNAUTHORIZED)'),
        429: json(errorSchema, 'Too many failed token attempts from this address (RATE_LIMITED)'),
      },
    }),
    async (c) => {
      const { limit: n, before } = c.req.valid('query');
      const rows = await co.store.security.listAudit(n + 1, before ?? null);
      const entries = rows.slice(0, n).map((e) => ({ ...e, seq: e.seq! }));
      return c.json({ entries, nextBefore: rows.length > n ? entries[entries.length - 1].seq : null }, 200);
    },
  );
}
