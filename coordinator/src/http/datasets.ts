/**
 * Datasets over HTTP (mounted under /api by api.ts): upload a file as a new version of a name
 * (the raw file is the body, streamed to disk, never buffered), list names and versions, read
 * one version with its lineage, and delete an unused one. Import options travel as query
 * parameters so the body stays the file itself, which `curl --data-binary @file` and the CLI
 * send as is.
 */
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  DATASET_FORMATS,
  type DatasetVersionView,
  type DatasetView,
  GridTabError,
  MISSING_POLICIES,
  TASK_KINDS,
} from '@gridtab/shared';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { ImportOptions } from '../datasets/importer.ts';
import type { DatasetRegistry } from '../datasets/registry.ts';
import type { DatasetRecord } from '../storage/store.ts';
import { errorResponse } from './errors.ts';
import { errorSchema, json, pathSegment, publicAccess, security } from './openapi-parts.ts';
import { bearerToken, type TokenAuthority } from './tokens.ts';

/** Body types an upload may carry; anything else (JSON, a form) is not a dataset file. */
export const UPLOAD_CONTENT_TYPES = [
  'application/octet-stream',
  'text/csv',
  'text/tab-separated-values',
  'text/plain',
  'application/zip',
  'application/x-zip-compressed',
  'application/x-tar',
  'application/gzip',
  'application/x-gzip',
  'application/vnd.apache.parquet',
] as const;

const errors = {
  400: json(errorSchema, 'Bad name, format or option, or a file the importer refused (its code says why)'),
  401: json(errorSchema, 'No, unknown or revoked token (UNAUTHORIZED)'),
  403: json(errorSchema, 'The token is valid but not an admin token (FORBIDDEN)'),
  404: json(errorSchema, 'No such dataset version (NOT_FOUND)'),
};

const object = (description: string) => z.any().openapi({ type: 'object', description });
const taskSchema = z
  .union([
    z.object({ kind: z.literal('classification'), numClasses: z.number().int() }),
    z.object({ kind: z.literal('regression'), numTargets: z.number().int() }),
  ])
  .openapi('Task');
const versionViewSchema = z
  .object({
    id: z.string().openapi({ description: '`name@version`' }),
    name: z.string(),
    version: z.number().int(),
    hash: z.string(),
    task: taskSchema,
    schema: object('Input shape and dtype, feature, class or target names, categorical vocabularies'),
    stats: object('Per-feature and per-target statistics, class counts, duplicates, dropped rows, warnings'),
    splits: object('How rows were split into train and test, and how many each'),
    normalization: object('Input (and regression target) mean and std applied in training and inference'),
    source: object('The uploaded file: name, format, bytes, sha256, who, when, options').nullable(),
    parent: z.string().nullable(),
    shards: z.object({ count: z.number().int(), bytes: z.number().int(), testCount: z.number().int() }),
    createdAt: z.string(),
  })
  .openapi('DatasetVersion');
const lineageSchema = z
  .object({
    jobs: z.array(z.object({ id: z.string(), name: z.string(), status: z.string() })),
    models: z.array(
      z.object({ name: z.string(), version: z.number().int(), jobId: z.string(), versionId: z.string() }),
    ),
  })
  .openapi('DatasetLineage');
const datasetViewSchema = z
  .object({
    name: z.string(),
    latest: z.number().int(),
    versions: z.number().int(),
    task: taskSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Dataset');

const nameParam = z.object({ name: pathSegment('name') });
const versionParam = nameParam.extend({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: 'version', in: 'path' }, type: 'integer' }),
});
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional();
const importQuery = z
  .object({
    format: z.enum(DATASET_FORMATS),
    label: z.string().min(1).max(200).optional(),
    task: z.enum(TASK_KINDS).optional(),
    missing: z.enum(MISSING_POLICIES).optional(),
    categorical: z.string().max(4000).optional().openapi({ description: 'comma-separated column names' }),
    width: int(1, 1024),
    height: int(1, 1024),
    channels: z.enum(['1', '3']).optional(),
    seed: int(0, 2 ** 31 - 1),
    testFraction: z.coerce.number().gt(0).lt(1).optional(),
    splitColumn: z.string().min(1).max(200).optional(),
    shardSize: int(1, 1_000_000),
    fileName: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .openapi({ description: "the file's name, for the record" }),
  })
  .strict();

export function versionViewOf(d: DatasetRecord): DatasetVersionView {
  return {
    id: d.id,
    name: d.name,
    version: d.version,
    hash: d.hash,
    task: d.schema.task,
    schema: d.schema,
    stats: d.stats,
    splits: d.splits,
    normalization: d.normalization,
    source: d.source,
    parent: d.parent,
    shards: { count: d.shardHashes.length, bytes: d.bytes, testCount: d.testHashes.length },
    createdAt: d.createdAt,
  };
}

/** One entry per name, from all versions. */
export function datasetViews(records: DatasetRecord[]): DatasetView[] {
  const byName = new Map<string, DatasetRecord[]>();
  for (const d of records) byName.set(d.name, [...(byName.get(d.name) ?? []), d]);
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, versions]) => {
      const sorted = versions.sort((a, b) => a.version - b.version);
      const latest = sorted.at(-1)!;
      return {
        name,
        latest: latest.version,
        versions: sorted.length,
        task: latest.schema.task,
        createdAt: sorted[0].createdAt,
        updatedAt: latest.createdAt,
      };
    });
}

function optionsOf(q: z.infer<typeof importQuery>): ImportOptions {
  const { format, fileName, categorical, channels, ...rest } = q;
  return {
    ...rest,
    ...(categorical !== undefined && {
      categorical: categorical
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    }),
    ...(channels !== undefined && { channels: Number(channels) as 1 | 3 }),
  };
}

export interface DatasetsApiDeps {
  datasets: DatasetRegistry;
  tokens: TokenAuthority;
  admin: MiddlewareHandler;
}

export function createDatasetsApi({ datasets, tokens, admin }: DatasetsApiDeps) {
  const api = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`);
        return errorResponse(c, 'BAD_REQUEST', issues.join('; '), 400);
      }
    },
  });

  api.openapi(
    createRoute({
      method: 'post',
      path: '/datasets/{name}/versions',
      operationId: 'importDatasetVersion',
      summary: 'Upload a file as a new dataset version',
      description:
        'The body is the raw file (CSV, TSV, Parquet, NPZ, an image archive as zip or tar, or IDX), streamed to disk and capped by GRIDTAB_DATASET_MAX_BYTES. Import options are query parameters. Content equal to an existing version of the name returns that version with 200; otherwise the new version (the previous latest as its parent) with 201. A refused file stores nothing.',
      security,
      middleware: [admin] as const,
      request: {
        params: nameParam,
        query: importQuery,
        body: {
          required: true,
          content: Object.fromEntries(
            UPLOAD_CONTENT_TYPES.map((t) => [t, { schema: z.string().openapi({ format: 'binary' }) }]),
          ),
        },
      },
      responses: {
        200: json(versionViewSchema, 'The same content is already this version'),
        201: json(versionViewSchema, 'The new version'),
        ...errors,
        409: json(errorSchema, 'Another coordinator numbered the same version at once (CONFLICT)'),
        413: json(errorSchema, 'The file is over the upload cap (PAYLOAD_TOO_LARGE)'),
        415: json(errorSchema, 'The body is not a file type uploads take (UNSUPPORTED_MEDIA_TYPE)'),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const query = c.req.valid('query');
      const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (!(UPLOAD_CONTENT_TYPES as readonly string[]).includes(type))
        throw new GridTabError(
          'UNSUPPORTED_MEDIA_TYPE',
          `send the file itself as the body with one of: ${UPLOAD_CONTENT_TYPES.join(', ')} (got '${type || 'none'}')`,
        );
      const who = await tokens.resolve(bearerToken(c.req.header('authorization')) ?? '');
      const rawOptions = Object.fromEntries(
        Object.entries(c.req.query()).filter(([k]) => k !== 'format' && k !== 'fileName'),
      );
      const { record, created } = await datasets.import(
        name,
        c.req.raw.body as WebReadableStream<Uint8Array> | null,
        {
          format: query.format,
          options: optionsOf(query),
          rawOptions,
          fileName: query.fileName ?? `upload.${query.format}`,
          importedBy: who ? `${who.label} (${who.role})` : 'unknown',
          signal: c.req.raw.signal,
        },
      );
      return c.json(versionViewOf(record), created ? 201 : 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/datasets',
      operationId: 'listDatasets',
      security: publicAccess,
      summary: 'Dataset names with their latest version',
      responses: { 200: json(z.array(datasetViewSchema), 'Every dataset name, alphabetically') },
    }),
    async (c) => c.json(datasetViews(await datasets.all()), 200),
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/datasets/{name}/versions',
      operationId: 'listDatasetVersions',
      security: publicAccess,
      summary: "A dataset's versions, oldest first",
      request: { params: nameParam },
      responses: {
        200: json(z.array(versionViewSchema), 'The versions'),
        400: errors[400],
        404: errors[404],
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const versions = await datasets.versions(name);
      if (versions.length === 0) throw new GridTabError('NOT_FOUND', `dataset ${name} does not exist`);
      return c.json(versions.map(versionViewOf), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/datasets/{name}/versions/{version}',
      operationId: 'getDatasetVersion',
      security: publicAccess,
      summary: 'One dataset version with its lineage (jobs and model versions built from it)',
      request: { params: versionParam },
      responses: {
        200: json(versionViewSchema.extend({ lineage: lineageSchema }), 'The version and its lineage'),
        400: errors[400],
        404: errors[404],
      },
    }),
    async (c) => {
      const { name, version } = c.req.valid('param');
      const record = await datasets.version(name, version);
      return c.json({ ...versionViewOf(record), lineage: await datasets.lineage(record.id) }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/datasets/{name}/versions/{version}',
      operationId: 'deleteDatasetVersion',
      summary: 'Delete a version no job uses, and the shards no other version shares',
      security,
      middleware: [admin] as const,
      request: { params: versionParam },
      responses: {
        200: json(
          z.object({ id: z.string(), blobsDeleted: z.number().int(), bytesFreed: z.number().int() }),
          'Deleted; what garbage collection freed',
        ),
        ...errors,
        409: json(errorSchema, 'A job trains or trained on it (DATASET_IN_USE)'),
      },
    }),
    async (c) => {
      const { name, version } = c.req.valid('param');
      return c.json(await datasets.delete(name, version), 200);
    },
  );

  return api;
}
