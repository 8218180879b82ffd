/**
 * The one HTTP error handler: every failure leaves as `{ error: { code, message } }` with a
 * status that matches its code.
 */
import { type ErrorCode, GridTabError } from '@gridtab/shared';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  BAD_REQUEST: 400,
  INVALID_MODEL_SPEC: 400,
  UNKNOWN_DATASET: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  JOB_NOT_RUNNING: 409,
  CONFLICT: 409,
  WEIGHTS_MISMATCH: 400,
  INPUT_MISMATCH: 400,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  BUSY: 503,
  DATASET_MISSING: 503,
  DATASET_MODEL_MISMATCH: 400,
  DATASET_IN_USE: 409,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_FORMAT: 400,
  UNKNOWN_COLUMN: 400,
  RAGGED_ROW: 400,
  NON_NUMERIC: 400,
  NON_FINITE_VALUE: 400,
  MISSING_VALUE: 400,
  MISSING_LABEL: 400,
  SINGLE_CLASS: 400,
  UNSAFE_ARCHIVE_PATH: 400,
  ARCHIVE_TOO_LARGE: 413,
  UNDECODABLE_IMAGE: 400,
  INCONSISTENT_SAMPLES: 400,
  EMPTY_DATASET: 400,
  STORAGE_QUOTA: 507,
  VERSION_PRUNED: 410,
  INVALID_BUDGET: 400,
};

export function errorResponse(c: Context, code: ErrorCode, message: string, status?: ContentfulStatusCode) {
  return c.json({ error: { code, message } }, status ?? STATUS[code] ?? 500);
}

export function onError(log: (msg: string) => void) {
  return (err: Error, c: Context) => {
    if (err instanceof GridTabError) {
      // The build queue drains in seconds (model-build/build-pool.ts).
      if (err.code === 'BUSY') c.header('retry-after', '5');
      return errorResponse(c, err.code, err.message);
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      if (status === 413) return errorResponse(c, 'PAYLOAD_TOO_LARGE', 'the request body is too large', 413);
      if (status === 401) return errorResponse(c, 'UNAUTHORIZED', err.message || 'unauthorized', 401);
      if (status === 415)
        return errorResponse(c, 'UNSUPPORTED_MEDIA_TYPE', err.message || 'unsupported content type', 415);
      return errorResponse(c, 'BAD_REQUEST', err.message || 'bad request', status < 500 ? status : 400);
    }
    log(`HTTP ${c.req.method} ${c.req.path} failed: ${err.stack}`);
    return errorResponse(c, 'INTERNAL', 'the coordinator failed; see its log', 500);
  };
}
