/**
 * Pieces every route module's OpenAPI description uses: the error body, a JSON response, the
 * bearer-token security requirement and a path segment parameter. One definition, so the
 * document names one `Error` schema and every path parameter has the same bounds.
 */
import { z } from '@hono/zod-openapi';

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi('Error');

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

export const security = [{ bearer: [] }];

/** Anyone may call: an explicit empty requirement, so a route that forgot its security shows up in review. */
export const publicAccess: [] = [];

/**
 * zod-to-openapi renders `z.unknown()` and `z.any()` (free-form model configs, telemetry
 * maps) as `{ nullable: true }` with no `type`, which OpenAPI 3.0 linters reject: `nullable`
 * only qualifies a `type`. A schema with no type already admits any value, so the flag is
 * dropped there. Walks the whole document in place, so routes added later are covered too.
 */
export function dropUntypedNullable(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) dropUntypedNullable(item);
  } else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if ('nullable' in record && !('type' in record)) delete record.nullable;
    for (const value of Object.values(record)) dropUntypedNullable(value);
  }
}

/** A path parameter: 1 to 100 characters (ids, names, aliases). */
export const pathSegment = (name: string) =>
  z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name, in: 'path' } });

/** A version's test metrics: accuracy for classification; R², MAE and RMSE for regression. */
export const metricsSchema = z
  .object({
    testAccuracy: z.number().nullable(),
    testLoss: z.number().nullable(),
    testR2: z.number().nullable().optional(),
    testMae: z.number().nullable().optional(),
    testRmse: z.number().nullable().optional(),
  })
  .openapi('Metrics');
