/**
 * Token management under /api/tokens (admin only): list, create (the secret is in the answer
 * once and never again), revoke. A revoked token is refused at once with UNAUTHORIZED.
 */
import { GridTabError } from '@gridtab/shared';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Coordinator } from '../app.ts';
import type { TokenRecord } from '../storage/store.ts';
import { errorSchema, json, security } from './openapi-parts.ts';
import { ROLES } from './tokens.ts';

const tokenViewSchema = z
  .object({
    id: z.string(),
    role: z.enum(ROLES),
    label: z.string(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('Token');
const createSchema = z
  .object({
    role: z.enum(ROLES),
    label: z.string().trim().min(1).max(100),
  })
  .strict();
const authErrors = {
  401: json(errorSchema, 'No, unknown or revoked token (UNAUTHORIZED)'),
  403: json(errorSchema, 'The token is not an admin token (FORBIDDEN)'),
};

/** Never the digest: it is not a secret, but nothing outside the store needs it. */
const tokenView = (t: TokenRecord) => ({
  id: t.id,
  role: t.role,
  label: t.label,
  createdAt: t.createdAt,
  revokedAt: t.revokedAt,
});

export function addTokenRoutes(
  api: OpenAPIHono,
  co: Pick<Coordinator, 'store' | 'tokens' | 'log'>,
  admin: MiddlewareHandler,
) {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/tokens',
      operationId: 'listTokens',
      summary: 'List API tokens',
      security,
      middleware: [admin] as const,
      responses: { 200: json(z.array(tokenViewSchema), 'Tokens created through the API'), ...authErrors },
    }),
    async (c) => c.json((await co.store.listTokens()).map(tokenView), 200),
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/tokens',
      operationId: 'createToken',
      summary: 'Create an API token',
      security,
      middleware: [admin] as const,
      request: { body: { required: true, content: { 'application/json': { schema: createSchema } } } },
      responses: {
        201: json(
          tokenViewSchema.extend({ token: z.string() }),
          'The new token; its secret is shown only here',
        ),
        400: json(errorSchema, 'Malformed request (BAD_REQUEST)'),
        ...authErrors,
      },
    }),
    async (c) => {
      const { role, label } = c.req.valid('json');
      const { record, token } = await co.tokens.create(role, label, new Date().toISOString());
      co.log(`token ${record.id} (${role}, '${label}') created`);
      return c.json({ ...tokenView(record), token }, 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/tokens/{id}',
      operationId: 'revokeToken',
      summary: 'Revoke an API token',
      security,
      middleware: [admin] as const,
      request: {
        params: z.object({
          id: z
            .string()
            .min(1)
            .max(100)
            .openapi({ param: { name: 'id', in: 'path' } }),
        }),
      },
      responses: {
        200: json(tokenViewSchema, 'The token, now revoked'),
        404: json(errorSchema, 'No unrevoked token has this id (NOT_FOUND)'),
        ...authErrors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await co.store.revokeToken(id, new Date().toISOString())))
        throw new GridTabError('NOT_FOUND', `no unrevoked token ${id}`);
      co.log(`token ${id} revoked`);
      const record = (await co.store.listTokens()).find((t) => t.id === id)!;
      return c.json(tokenView(record), 200);
    },
  );
}
