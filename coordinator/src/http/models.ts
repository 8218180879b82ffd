/**
 * The model registry over HTTP (mounted under /api by api.ts): models, versions, lineage,
 * aliases with canary splits, rollback, import of TF.js layers models, and every version
 * exported as a TF.js layers model (`.../versions/:id/model.json` beside its `weights.bin`),
 * loadable with plain `tf.loadLayersModel(url)`.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ModelVersion, Registry } from '../registry/registry.ts';
import type { InferenceTelemetry } from '../registry/telemetry.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { errorResponse } from './errors.ts';
import { errorSchema, json, metricsSchema, pathSegment, publicAccess, security } from './openapi-parts.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** An import carries its weights base64-encoded: 64 MiB holds a 16M-parameter model. */
const MAX_IMPORT_BODY = 64 * 1024 * 1024;

const errors = {
  400: json(errorSchema, 'Malformed request (BAD_REQUEST, INVALID_MODEL_SPEC, WEIGHTS_MISMATCH)'),
  401: json(errorSchema, 'Missing or wrong admin token (UNAUTHORIZED)'),
  404: json(errorSchema, 'No such model, version or alias (NOT_FOUND)'),
  409: json(errorSchema, 'Name taken or nothing to roll back to (CONFLICT)'),
  410: json(errorSchema, "Retention pruned the version's weights (VERSION_PRUNED)"),
};
const nameParam = z.object({ name: pathSegment('name') });
const versionParam = nameParam.extend({ id: pathSegment('id') });
const aliasParam = nameParam.extend({ alias: pathSegment('alias') });

const modelSchema = z
  .object({
    name: z.string(),
    aliases: z.record(z.string(), z.string()),
    latestVersionId: z.string().nullable(),
  })
  .openapi('Model');
const versionSchema = z
  .object({
    id: z.string(),
    hash: z.string(),
    parentId: z.string().nullable(),
    jobId: z.string().nullable(),
    createdAt: z.string(),
    metrics: metricsSchema,
    dataset: z
      .object({ name: z.string(), version: z.number().int(), hash: z.string() })
      .nullable()
      .openapi({ description: 'The dataset version the job trained on; null for an imported model' }),
    pruned: z.boolean().optional().openapi({
      description: "True when retention pruned the version's weights (fetching them: VERSION_PRUNED)",
    }),
  })
  .openapi('ModelVersion');
const canarySchema = z
  .object({ versionId: z.string().min(1).max(100), fraction: z.number().min(0).max(1) })
  .strict();
const aliasSchema = z
  .object({
    modelName: z.string(),
    alias: z.string(),
    versionId: z.string(),
    canary: canarySchema.nullable(),
    updatedAt: z.string(),
  })
  .openapi('Alias');
const moveSchema = aliasSchema.extend({ seq: z.number().int(), actor: z.string() }).openapi('AliasMove');
const autoPromoteSchema = z
  .object({
    alias: z.string().min(1).max(64),
    metric: z.enum(['testAccuracy', 'testLoss']).default('testAccuracy'),
  })
  .strict();

export interface ModelsDeps {
  registry: Registry;
  telemetry: InferenceTelemetry;
  blobs: BlobStore;
  /** The API's admin check, passed in so this file follows however api.ts authenticates. */
  admin: MiddlewareHandler;
}

export function createModelsApi({ registry, telemetry, blobs, admin }: ModelsDeps) {
  const api = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
        return errorResponse(c, 'BAD_REQUEST', issues.join('; '), 400);
      }
    },
  });
  const view = (v: ModelVersion) => ({
    id: v.id,
    hash: v.hash,
    parentId: v.parentId,
    jobId: v.jobId,
    createdAt: v.createdAt,
    metrics: v.metrics,
    dataset: v.dataset,
    ...(v.pruned && { pruned: true }),
  });

  api.openapi(
    createRoute({
      method: 'get',
      path: '/models',
      operationId: 'listModels',
      summary: 'List published models',
      security: publicAccess,
      responses: { 200: json(z.array(modelSchema), 'All models') },
    }),
    async (c) => c.json(await registry.listModels(), 200),
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/models',
      operationId: 'createModel',
      summary: 'Publish a model name',
      security,
      middleware: [admin] as const,
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  name: z.string().min(1).max(64),
                  jobId: z.string().min(1).max(100),
                  autoPromote: autoPromoteSchema.nullable().optional(),
                })
                .strict(),
            },
          },
        },
      },
      responses: {
        200: json(z.object({ name: z.string(), jobId: z.string().nullable() }), "The job's model, named"),
        ...errors,
      },
    }),
    async (c) => {
      const { name, jobId, autoPromote } = c.req.valid('json');
      const m = await registry.bindJob(name, jobId, autoPromote ?? null);
      return c.json({ name: m.name, jobId: m.jobId, autoPromote: m.autoPromote }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/models/{name}/versions',
      operationId: 'listModelVersions',
      summary: "List a model's versions",
      security: publicAccess,
      request: { params: nameParam },
      responses: {
        200: json(z.array(versionSchema), "The model's versions, oldest first"),
        404: errors[404],
      },
    }),
    async (c) => c.json((await registry.versions(c.req.valid('param').name)).map(view), 200),
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/models/{name}/versions/{id}/lineage',
      operationId: 'getVersionLineage',
      summary: "Get a version's lineage",
      security: publicAccess,
      request: { params: versionParam },
      responses: {
        200: json(
          z.object({
            version: versionSchema.extend({ round: z.number().nullable() }),
            updates: z.array(z.record(z.string(), z.unknown())),
            contributors: z.array(z.string()),
            shards: z.array(z.string()),
            numSamples: z.number(),
          }),
          'The updates, contributors and shards that fed the version',
        ),
        404: errors[404],
      },
    }),
    async (c) => {
      const { name, id } = c.req.valid('param');
      return c.json(await registry.lineage(name, id), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/models/{name}/versions/{id}/telemetry',
      operationId: 'getVersionTelemetry',
      summary: "Get a version's inference telemetry",
      security: publicAccess,
      request: { params: versionParam },
      responses: {
        200: json(z.record(z.string(), z.unknown()), 'What SDKs reported for this version'),
        404: errors[404],
      },
    }),
    async (c) => {
      const { name, id } = c.req.valid('param');
      await registry.version(name, id);
      return c.json(telemetry.forVersion(name, id) as unknown as Record<string, unknown>, 200);
    },
  );

  // The export: plain routes, since TF.js reads them as files (JSON and raw bytes).
  api.get('/models/:name/versions/:id/model.json', async (c) =>
    c.json(await registry.modelJson(c.req.param('name'), c.req.param('id')), 200, {
      'cache-control': IMMUTABLE,
    }),
  );
  api.get('/models/:name/versions/:id/weights.bin', async (c) => {
    const v = await registry.loadableVersion(c.req.param('name'), c.req.param('id'));
    const bytes = await blobs.get(v.hash);
    if (!bytes) return errorResponse(c, 'NOT_FOUND', `the weights of ${v.id} are missing`);
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        'content-type': 'application/octet-stream',
        'cache-control': IMMUTABLE,
        etag: `"${v.hash}"`,
      },
    });
  });

  api.openapi(
    createRoute({
      method: 'get',
      path: '/models/{name}/aliases/{alias}',
      operationId: 'getAlias',
      summary: 'Resolve an alias to a version',
      security: publicAccess,
      request: {
        params: aliasParam,
        query: z.object({ client: z.string().min(1).max(100).optional() }),
      },
      responses: {
        200: json(
          aliasSchema.extend({
            resolved: z.object({ versionId: z.string(), hash: z.string(), canary: z.boolean() }),
          }),
          'The alias, and the version it gives this client',
        ),
        404: errors[404],
      },
    }),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      const client = c.req.valid('query').client ?? crypto.randomUUID();
      const { versionId, hash, canary } = await registry.resolve(name, alias, client);
      return c.json({ ...(await registry.alias(name, alias)), resolved: { versionId, hash, canary } }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/models/{name}/aliases/{alias}/history',
      operationId: 'getAliasHistory',
      summary: "List an alias's moves",
      security: publicAccess,
      request: { params: aliasParam },
      responses: {
        200: json(z.array(moveSchema), 'Every move of the alias, oldest first'),
        404: errors[404],
      },
    }),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      return c.json(await registry.history(name, alias), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/models/{name}/aliases/{alias}',
      operationId: 'moveAlias',
      summary: 'Point an alias at a version (promote)',
      security,
      middleware: [admin] as const,
      request: {
        params: aliasParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({ versionId: z.string().min(1).max(100), canary: canarySchema.nullable().optional() })
                .strict(),
            },
          },
        },
      },
      responses: { 200: json(moveSchema, 'The alias after the move'), ...errors },
    }),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      return c.json(await registry.moveAlias(name, alias, c.req.valid('json')), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/models/{name}/aliases/{alias}/rollback',
      operationId: 'rollbackAlias',
      summary: 'Move an alias back to its previous version',
      security,
      middleware: [admin] as const,
      request: { params: aliasParam },
      responses: { 200: json(moveSchema, 'The alias after the rollback'), ...errors },
    }),
    async (c) => {
      const { name, alias } = c.req.valid('param');
      return c.json(await registry.rollback(name, alias), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/models/{name}/import',
      operationId: 'importModel',
      summary: 'Import a version in the TF.js layers format',
      security,
      middleware: [
        bodyLimit({
          maxSize: MAX_IMPORT_BODY,
          onError: (c) =>
            errorResponse(c, 'PAYLOAD_TOO_LARGE', `imports are limited to ${MAX_IMPORT_BODY} bytes`, 413),
        }),
        admin,
      ] as const,
      request: {
        params: nameParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  modelJson: z
                    .object({
                      modelTopology: z.record(z.string(), z.unknown()),
                      weightsManifest: z.array(z.unknown()),
                    })
                    .loose(),
                  /** The weight files' bytes, concatenated in manifest order, base64. */
                  weights: z.base64().max(MAX_IMPORT_BODY),
                })
                .strict(),
            },
          },
        },
      },
      responses: { 201: json(versionSchema, 'The imported version'), ...errors },
    }),
    async (c) => {
      const { modelJson, weights } = c.req.valid('json');
      const bytes = new Uint8Array(Buffer.from(weights, 'base64'));
      const v = await registry.importModel(c.req.valid('param').name, modelJson, bytes);
      return c.json(view(v), 201);
    },
  );

  return api;
}
