/**
 * Hyperparameter sweeps over HTTP (mounted under /api by api.ts). A refused request answers 400
 * with the code `sweepErrorCode` gives (INVALID_SEARCH_SPACE, UNKNOWN_PARAMETER, INVALID_BUDGET,
 * UNKNOWN_METRIC, else BAD_REQUEST), or INVALID_MODEL_SPEC / UNKNOWN_DATASET from the
 * coordinator's own checks; nothing is stored or started then.
 */
import { GridTabError, SWEEP_METRICS, sweepErrorCode, sweepSpecSchema } from '@gridtab/shared';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { checkName, type Registry, slugify } from '../registry/registry.ts';
import type { Store } from '../storage/store.ts';
import type { SweepRunner } from '../sweeps/runner.ts';
import { sweepView } from '../sweeps/views.ts';
import { errorResponse } from './errors.ts';
import { errorSchema, json, pathSegment, publicAccess, security } from './openapi-parts.ts';
import { jobView } from './views.ts';

const errors = {
  400: json(
    errorSchema,
    'Refused sweep (INVALID_SEARCH_SPACE, UNKNOWN_PARAMETER, INVALID_BUDGET, UNKNOWN_METRIC, INVALID_MODEL_SPEC, UNKNOWN_DATASET, BAD_REQUEST)',
  ),
  401: json(errorSchema, 'No, unknown or revoked token (UNAUTHORIZED)'),
  403: json(errorSchema, 'The token is valid but not an admin token (FORBIDDEN)'),
  404: json(errorSchema, 'No such sweep or trial (NOT_FOUND)'),
  409: json(errorSchema, 'The sweep has ended, or the trial has nothing to re-run or promote (CONFLICT)'),
};
const idParam = z.object({ id: pathSegment('id') });

const metricValue = z.number().nullable();
const trialSchema = z
  .object({
    id: z.string(),
    index: z.number().int(),
    params: z.record(z.string(), z.unknown()),
    status: z.string(),
    jobId: z.string().nullable(),
    rung: z.number().int(),
    error: z.string().nullable(),
    curve: z.array(
      z.object({
        round: z.number(),
        testAccuracy: metricValue,
        testLoss: metricValue,
        testR2: metricValue.optional(),
        testMae: metricValue.optional(),
        testRmse: metricValue.optional(),
        samples: z.number(),
      }),
    ),
    best: z.object({ versionId: z.string(), round: z.number(), value: z.number() }).nullable(),
    samples: z.number(),
    /** Training time of its accepted updates on contributors' devices; null when not metered. */
    deviceSeconds: z.number().nullable(),
    repro: z.record(z.string(), z.unknown()).nullable(),
    reruns: z.array(z.string()),
  })
  .openapi('Trial');
const sweepSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['running', 'completed', 'cancelled']),
    metric: z.enum(SWEEP_METRICS),
    method: z.record(z.string(), z.unknown()),
    budget: z.record(z.string(), z.unknown()),
    concurrency: z.number().int(),
    space: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    endedAt: z.string().nullable(),
    samples: z.number(),
    deviceSeconds: z.number().nullable(),
    trialCounts: z.record(z.string(), z.number()),
    best: z.object({ trialId: z.string(), versionId: z.string(), value: z.number() }).nullable(),
    trials: z.array(trialSchema).optional(),
  })
  .openapi('Sweep');

export function createSweepsApi(deps: {
  store: Store;
  sweeps: SweepRunner;
  registry: Registry;
  admin: MiddlewareHandler;
  limit: MiddlewareHandler;
}) {
  const { store, sweeps, registry, admin, limit } = deps;
  const api = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (result.success) return;
      const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
      return errorResponse(c, sweepErrorCode(result.error.issues), issues.join('; '), 400);
    },
  });
  const getSweep = async (id: string) => {
    const sweep = await store.sweeps.getSweep(id);
    if (!sweep) throw new GridTabError('NOT_FOUND', `sweep ${id} does not exist`);
    return sweep;
  };

  api.openapi(
    createRoute({
      method: 'get',
      path: '/sweeps',
      operationId: 'listSweeps',
      summary: 'List sweeps',
      security: publicAccess,
      responses: { 200: json(z.array(sweepSchema), 'All sweeps, without their trials') },
    }),
    async (c) =>
      c.json(
        await Promise.all(
          (await store.sweeps.listSweeps()).map((s) => sweepView(store, s, false, sweeps.deviceMsOf())),
        ),
        200,
      ),
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/sweeps',
      operationId: 'createSweep',
      summary: 'Start a hyperparameter sweep',
      security,
      middleware: [limit, admin] as const,
      request: { body: { required: true, content: { 'application/json': { schema: sweepSpecSchema } } } },
      responses: { 201: json(sweepSchema, 'The sweep was stored and its first trials started'), ...errors },
    }),
    async (c) => {
      const sweep = await sweeps.create(c.req.valid('json'));
      return c.json(await sweepView(store, sweep, true, sweeps.deviceMsOf()), 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/sweeps/{id}',
      operationId: 'getSweep',
      summary: 'Get one sweep and its trials',
      security: publicAccess,
      request: { params: idParam },
      responses: {
        200: json(sweepSchema, 'The sweep with its trials: parameters, status, curve, best version, samples'),
        404: errors[404],
      },
    }),
    async (c) =>
      c.json(await sweepView(store, await getSweep(c.req.valid('param').id), true, sweeps.deviceMsOf()), 200),
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/sweeps/{id}/cancel',
      operationId: 'cancelSweep',
      summary: 'Cancel a sweep',
      security,
      middleware: [admin] as const,
      request: { params: idParam },
      responses: { 200: json(sweepSchema, 'The sweep, cancelled with its trials'), ...errors },
    }),
    async (c) => {
      const sweep = await sweeps.cancel(c.req.valid('param').id);
      return c.json(await sweepView(store, sweep, true, sweeps.deviceMsOf()), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/sweeps/{id}/trials/{trialId}/rerun',
      operationId: 'rerunTrial',
      summary: 'Run a trial again',
      security,
      middleware: [admin] as const,
      request: { params: idParam.extend({ trialId: pathSegment('trialId') }) },
      responses: {
        201: json(
          z.object({ jobId: z.string(), job: z.record(z.string(), z.unknown()) }),
          'A new job running the trial again from its record, for as many rounds as it ran',
        ),
        ...errors,
      },
    }),
    async (c) => {
      const { id, trialId } = c.req.valid('param');
      await getSweep(id);
      const job = await sweeps.rerun(id, trialId);
      return c.json({ jobId: job.id, job: { ...(await jobView(store, job)) } }, 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/sweeps/{id}/promote',
      operationId: 'promoteSweepBest',
      summary: "Promote a sweep's best trial",
      security,
      middleware: [limit, admin] as const,
      request: {
        params: idParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  alias: z.string().min(1).max(64),
                  /** Registry name for the best trial's job; default: a slug of the sweep name. */
                  model: z.string().min(1).max(64).optional(),
                })
                .strict(),
            },
          },
        },
      },
      responses: {
        200: json(
          z.object({ model: z.string(), alias: z.string(), versionId: z.string(), trialId: z.string() }),
          "The alias now points at the best trial's best version",
        ),
        ...errors,
      },
    }),
    async (c) => {
      const sweep = await getSweep(c.req.valid('param').id);
      const { alias, model } = c.req.valid('json');
      const view = await sweepView(store, sweep, true, sweeps.deviceMsOf());
      const best = view.best;
      const trial = view.trials?.find((t) => t.id === best?.trialId);
      if (!best || !trial?.jobId)
        throw new GridTabError('CONFLICT', `sweep ${sweep.id} has no evaluated version yet`);
      const name = model ?? (slugify(sweep.name) || sweep.id);
      checkName('model', name);
      checkName('alias', alias);
      // The same registry calls as POST /api/models and POST /api/models/:name/aliases/:alias.
      await registry.bindJob(name, trial.jobId, null);
      await registry.moveAlias(name, alias, { versionId: best.versionId });
      return c.json({ model: name, alias, versionId: best.versionId, trialId: trial.id }, 200);
    },
  );

  return api;
}
