/**
 * Usage and budgets over HTTP (mounted under /api by api.ts): what a job spent
 * (GET /jobs/{id}/usage), usage over a day range grouped by day, job or contributor
 * (GET /usage), and a job's budget replaced (POST /jobs/{id}/budget; a limit below what is
 * already spent pauses or stops the job at once). A refused budget answers INVALID_BUDGET.
 */
import { type Budget, budgetSchema, GridTabError } from '@gridtab/shared';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Coordinator } from '../app.ts';
import { groupUsage, inRange, USAGE_GROUPS } from '../usage/report.ts';
import { totalStorageBytes } from '../usage/storage.ts';
import { errorSchema, json, pathSegment, publicAccess, security } from './openapi-parts.ts';

const counters = {
  gpuMs: z.number(),
  cpuDeviceMs: z.number(),
  samples: z.number(),
  units: z.number(),
  bytesDown: z.number(),
  bytesUp: z.number(),
  coordinatorCpuMs: z.number(),
  deviceHours: z.number(),
};
const lineSchema = z.object({ key: z.string(), ...counters }).openapi('UsageLine');
const costSchema = z
  .object({
    currency: z.string(),
    compute: z.number(),
    transfer: z.number(),
    storage: z.number(),
    total: z.number(),
    cloudGpuEquivalent: z.number(),
  })
  .openapi('CostEstimate');
export const budgetStatusSchema = z
  .object({
    state: z.enum(['ok', 'exceeded']),
    reason: z.string().nullable(),
    limits: z.record(z.string(), z.object({ spent: z.number(), limit: z.number() })),
  })
  .openapi('BudgetStatus');
const jobUsageSchema = z
  .object({
    jobId: z.string(),
    totals: z.object(counters),
    storageBytes: z.number(),
    wallTimeMs: z.number(),
    cost: costSchema.nullable(),
    budget: budgetStatusSchema.nullable(),
    byDay: z.array(lineSchema),
    byContributor: z.array(lineSchema),
  })
  .openapi('JobUsage');
const DAY = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a UTC day, YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'not a calendar day');
const usageQuery = z
  .object({
    group: z.enum(USAGE_GROUPS).default('day'),
    from: DAY.optional(),
    to: DAY.optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from is after to', path: ['from'] });
const idParam = z.object({ id: pathSegment('id') });
const notFound = json(errorSchema, 'No such job (NOT_FOUND)');

export function createUsageApi(
  co: Pick<Coordinator, 'store' | 'usage' | 'blobs' | 'log' | 'scheduler'>,
  admin: MiddlewareHandler,
) {
  const { store } = co;
  const { meter, guard } = co.usage;
  const api = new OpenAPIHono();
  const getJob = async (id: string) => {
    const job = await store.getJob(id);
    if (!job) throw new GridTabError('NOT_FOUND', `job ${id} does not exist`);
    return job;
  };

  api.openapi(
    createRoute({
      method: 'get',
      path: '/jobs/{id}/usage',
      summary: 'What a job spent',
      operationId: 'getJobUsage',
      security: publicAccess,
      description:
        "Device time by backend class, samples, bytes down (shards and weights served with `?job=`) and up (update payloads), coordinator CPU for validation and aggregation, storage held, and the estimated cost with a price table; with the job's budget status. Includes what is not flushed to the store yet.",
      request: { params: idParam },
      responses: { 200: json(jobUsageSchema, "The job's usage"), 404: notFound },
    }),
    async (c) => {
      const job = await getJob(c.req.valid('param').id);
      const rows = [
        ...(await store.usage.list({ jobId: job.id })),
        ...inRange(meter.pendingRows(), { jobId: job.id }),
      ];
      const spending = await guard.spending(job, true);
      const [totals] = groupUsage(rows, 'job');
      return c.json(
        {
          jobId: job.id,
          totals: totals ?? { ...spending.usage, deviceHours: 0 },
          storageBytes: spending.storageBytes,
          wallTimeMs: spending.wallTimeMs,
          cost: spending.cost,
          budget: (await guard.statusOf(job)) ?? null,
          byDay: groupUsage(rows, 'day'),
          byContributor: groupUsage(rows, 'contributor'),
        },
        200,
      );
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/usage',
      summary: 'Usage over a day range',
      operationId: 'listUsage',
      security: publicAccess,
      description:
        'Usage counters summed by UTC day, job or contributor over an inclusive day range (default: all), with the storage the coordinator holds in all.',
      request: { query: usageQuery },
      responses: {
        200: json(
          z.object({
            group: z.enum(USAGE_GROUPS),
            lines: z.array(lineSchema),
            storageBytes: z.number(),
            storageQuotaBytes: z.number().nullable(),
          }),
          'Usage lines, ordered by key',
        ),
        400: json(errorSchema, 'A bad group or day (BAD_REQUEST)'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = [...(await store.usage.list(q)), ...inRange(meter.pendingRows(), q)];
      return c.json(
        {
          group: q.group,
          lines: groupUsage(rows, q.group),
          storageBytes: await totalStorageBytes(co.blobs),
          storageQuotaBytes: co.usage.quota.quotaBytes,
        },
        200,
      );
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/jobs/{id}/budget',
      summary: "Replace a job's budget",
      operationId: 'setJobBudget',
      description:
        "Sets (or with `null` removes) the job's budget. A limit at or below what the job already spent pauses it (or stops it, with onExceed: stop) before the answer. A paused job is not resumed: resume it after raising the limit.",
      security,
      middleware: [admin] as const,
      request: {
        params: idParam,
        body: { required: true, content: { 'application/json': { schema: budgetSchema.nullable() } } },
      },
      responses: {
        200: json(
          z.object({ jobId: z.string(), status: z.string(), budget: budgetStatusSchema.nullable() }),
          'The budget after the change',
        ),
        400: json(errorSchema, 'A negative, non-finite, empty or contradictory budget (INVALID_BUDGET)'),
        401: json(errorSchema, 'No, unknown or revoked token (UNAUTHORIZED)'),
        403: json(errorSchema, 'The token is valid but not an admin token (FORBIDDEN)'),
        404: notFound,
      },
    }),
    async (c) => {
      const job = await getJob(c.req.valid('param').id);
      const budget = c.req.valid('json') as Budget | null;
      if (budget?.cost !== undefined && !co.usage.prices)
        throw new GridTabError('INVALID_BUDGET', 'budget.cost needs a price table (GRIDTAB_PRICES)');
      const { budget: _old, ...rest } = job.spec;
      await store.setJobSpec(job.id, budget ? { ...rest, budget } : rest);
      await co.scheduler.jobWritten(job.id);
      guard.forget(job.id);
      guard.request(job.id);
      await guard.settled();
      const after = await getJob(job.id);
      co.log(`job ${job.id}: budget ${budget ? 'set' : 'removed'} by an admin`);
      return c.json(
        { jobId: job.id, status: after.status, budget: (await guard.statusOf(after)) ?? null },
        200,
      );
    },
    (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
        throw new GridTabError('INVALID_BUDGET', issues.join('; '));
      }
      return undefined;
    },
  );
  return api;
}
