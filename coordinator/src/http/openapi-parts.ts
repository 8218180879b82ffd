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
