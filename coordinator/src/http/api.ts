/**
 * The JSON API under /api, described with @hono/zod-openapi so the OpenAPI document at
 * /api/openapi.json is generated from the same zod schemas that validate requests.
 */

import { aggregationSpecSchema, codecSpecSchema, GridTabError, jobSpecSchema } from '@gridtab/shared';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { Coordinator } from '../app.ts';
import { viewOf } from '../reputation/spot-check.ts';
import { createJob } from '../scheduler/jobs.ts';
import { auditMiddleware } from '../security/audit.ts';
import { requireRole } from './auth.ts';
import { createDatasetsApi } from './datasets.ts';
import { errorResponse } from './errors.ts';
import { createModelsApi } from './models.ts';
import {
  dropUntypedNullable,
  errorSchema,
  json,
  metricsSchema,
  pathSegment,
  publicAccess,
  security,
} from './openapi-parts.ts';
import { addSecurityRoutes } from './security-routes.ts';
import { createSweepsApi } from './sweeps.ts';
import { addTokenRoutes } from './token-routes.ts';
import { budgetStatusSchema, createUsageApi } from './usage-routes.ts';
import { jobView, versionView } from './views.ts';

const jobViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['running', 'paused', 'completed', 'cancelled']),
    round: z.number().int(),
    versionId: z.string().nullable(),
    metrics: metricsSchema,
    dataset: z.string(),
    strategy: z.string(),
    codec: codecSpecSchema,
    aggregation: aggregationSpecSchema,
    createdAt: z.string(),
    stopping: z.object({
      maxRounds: z.number().int(),
      targetAccuracy: z.number().nullable(),
      targetR2: z.number().nullable().optional(),
    }),
    task: z.enum(['classification', 'regression']).optional(),
    budget: budgetStatusSchema.optional(),
  })
  .openapi('Job');
const versionViewSchema = z
  .object({
    id: z.string(),
    jobId: z.string(),
    round: z.number().int(),
    hash: z.string(),
    parentId: z.string().nullable(),
    createdAt: z.string(),
    metrics: metricsSchema,
    numSamples: z.number().int(),
    unitIds: z.array(z.string()),
    pruned: z
      .boolean()
      .optional()
      .openapi({ description: "True when retention pruned the version's weights" }),
  })
  .openapi('Version');
const releaseSchema = z
  .object({
    id: z.string(),
    released: z.boolean(),
    reputation: z.number().optional(),
    checks: z.object({ passed: z.number(), failed: z.number() }).optional(),
    quarantined: z.boolean().optional(),
  })
  .openapi('QuarantineRelease');
const idParam = z.object({ id: pathSegment('id') });
const errors = {
  400: json(
    errorSchema,
    'Malformed request (BAD_REQUEST, INVALID_MODEL_SPEC, UNKNOWN_DATASET, DATASET_MODEL_MISMATCH, INVALID_BUDGET)',
  ),
  401: json(errorSchema, 'No, unknown or revoked token (UNAUTHORIZED)'),
  403: json(errorSchema, 'The token is valid but not an admin token (FORBIDDEN)'),
  404: json(errorSchema, 'No such job (NOT_FOUND)'),
};

/** Largest JSON body the API reads; a model spec with its topology fits well within it. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The HTTP API composes most services; config, metrics, stats, outcomes and alerts are not among them. */
export type ApiDeps = Pick<
  Coordinator,
  | 'store'
  | 'blobs'
  | 'clock'
  | 'log'
  | 'tokens'
  | 'guard'
  | 'usage'
  | 'admit'
  | 'builder'
  | 'scheduler'
  | 'registry'
  | 'spotChecks'
  | 'datasets'
  | 'inferenceTelemetry'
  | 'sweeps'
  | 'onlineContributors'
>;

export function createApi(co: ApiDeps) {
  const { store } = co;
  const api = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
        // A job spec refused only for its budget says so with its own code.
        const budget = result.error.issues.every((i) => i.path[0] === 'budget');
        return errorResponse(c, budget ? 'INVALID_BUDGET' : 'BAD_REQUEST', issues.join('; '), 400);
      }
    },
  });
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  const admin = requireRole(co.tokens, 'admin', co.guard);
  const viewer = requireRole(co.tokens, 'viewer', co.guard);
  api.use('*', auditMiddleware(co));
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) =>
      errorResponse(c, 'PAYLOAD_TOO_LARGE', `bodies are limited to ${MAX_BODY_BYTES} bytes`, 413),
  });
  const view = async (job: Parameters<typeof jobView>[1]) => {
    const budget = await co.usage.guard.statusOf(job);
    return { ...(await jobView(store, job)), ...(budget ? { budget } : {}) };
  };
  const getJob = async (id: string) => {
    const job = await store.getJob(id);
    if (!job) throw new GridTabError('NOT_FOUND', `job ${id} does not exist`);
    return job;
  };

  // Before /jobs/{id}/{action}, which would otherwise take POST /jobs/{id}/budget.
  api.route('/', createUsageApi(co, admin));

  api.openapi(
    createRoute({
      method: 'get',
      path: '/health',
      operationId: 'getHealth',
      summary: 'Whether the coordinator is serving',
      security: publicAccess,
      responses: { 200: json(z.object({ ok: z.literal(true) }), 'The coordinator is serving') },
    }),
    (c) => c.json({ ok: true as const }, 200),
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/jobs',
      operationId: 'listJobs',
      summary: 'List all jobs',
      security: publicAccess,
      responses: { 200: json(z.array(jobViewSchema), 'All jobs') },
    }),
    async (c) => c.json(await Promise.all((await store.listJobs()).map(view)), 200),
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/jobs',
      operationId: 'createJob',
      summary: 'Create a job and open its first round',
      security,
      middleware: [limit, admin] as const,
      request: { body: { required: true, content: { 'application/json': { schema: jobSpecSchema } } } },
      responses: {
        201: json(jobViewSchema, 'The job was created and its first round opened'),
        ...errors,
        507: json(errorSchema, 'The storage quota is reached (STORAGE_QUOTA)'),
      },
    }),
    async (c) => {
      const job = await createJob(co, c.req.valid('json'));
      await co.scheduler.openRound(job);
      co.log(`job ${job.id} '${job.name}' created`);
      return c.json(await view(job), 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/jobs/{id}',
      operationId: 'getJob',
      summary: 'Get one job',
      security: publicAccess,
      request: { params: idParam },
      responses: { 200: json(jobViewSchema, 'One job'), 404: errors[404] },
    }),
    async (c) => c.json(await view(await getJob(c.req.valid('param').id)), 200),
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/jobs/{id}/versions',
      operationId: 'listJobVersions',
      summary: "List a job's versions",
      security: publicAccess,
      request: { params: idParam },
      responses: {
        200: json(z.array(versionViewSchema), "The job's versions, oldest first"),
        404: errors[404],
      },
    }),
    async (c) => {
      const job = await getJob(c.req.valid('param').id);
      return c.json((await store.listVersions(job.id)).map(versionView), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/jobs/{id}/{action}',
      operationId: 'controlJob',
      summary: 'Pause, resume or cancel a job',
      security,
      middleware: [admin] as const,
      request: {
        params: idParam.extend({
          action: z.enum(['pause', 'resume', 'cancel']).openapi({ param: { name: 'action', in: 'path' } }),
        }),
      },
      responses: {
        200: json(jobViewSchema, 'The job after the change'),
        ...errors,
        409: json(errorSchema, 'Job has ended'),
      },
    }),
    async (c) => {
      const { id, action } = c.req.valid('param');
      await getJob(id);
      const status = ({ pause: 'paused', resume: 'running', cancel: 'cancelled' } as const)[action];
      return c.json(await view(await co.scheduler.setStatus(id, status)), 200);
    },
  );

  addSecurityRoutes(api, co, viewer);

  api.openapi(
    createRoute({
      method: 'post',
      path: '/contributors/{id}/release-quarantine',
      operationId: 'releaseQuarantine',
      summary: 'Lift a quarantine',
      description:
        'Lets a contributor that spot-checks quarantined (QUARANTINED) request units again. Its reputation record goes back to probation (no passes, no failures), so its next units are all checked and one more failure quarantines it again; its past checks are kept. Every coordinator process sharing the database sees the release within a few seconds. A contributor that is not quarantined is left as it is and the answer says `released: false`.',
      security,
      middleware: [admin] as const,
      request: { params: idParam },
      responses: {
        200: json(releaseSchema, 'Released, or `released: false` when it was not quarantined'),
        401: errors[401],
        403: errors[403],
        404: json(errorSchema, 'No such contributor (NOT_FOUND)'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await store.listContributors()).some((r) => r.id === id))
        throw new GridTabError('NOT_FOUND', `contributor ${id} does not exist`);
      const released = await co.spotChecks.release(id);
      if (released) {
        const { before } = released;
        co.log(
          `contributor ${id} released from quarantine by an admin (${before.checksPassed} passed, ${before.checksFailed} failed); back on probation`,
        );
      }
      const record = released?.after ?? (await store.reputation.getReputation(id));
      return c.json({ id, released: released !== null, ...(record ? viewOf(record) : {}) }, 200);
    },
  );

  addTokenRoutes(api, co, admin);
  api.route('/', createDatasetsApi({ datasets: co.datasets, tokens: co.tokens, admin }));
  api.route(
    '/',
    createModelsApi({ registry: co.registry, telemetry: co.inferenceTelemetry, blobs: co.blobs, admin }),
  );
  api.route('/', createSweepsApi({ store, sweeps: co.sweeps, registry: co.registry, admin, limit }));

  // Built by hand rather than with api.doc() so the generated document can be tidied first.
  api.get('/openapi.json', (c) => {
    const doc = api.getOpenAPIDocument({
      openapi: '3.0.3',
      info: {
        title: 'GridTab coordinator API',
        version: '0.1.0',
        description:
          'Jobs, versions and datasets of a GridTab coordinator. Mutating routes need an admin bearer token.',
      },
      // Relative: the paths below are mounted under /api on whichever host serves this document.
      servers: [{ url: '/api', description: 'This coordinator' }],
    });
    dropUntypedNullable(doc);
    return c.json(doc);
  });
  return api;
}
