/**
 * The SDK's one error type. `code` is one of the coordinator's error codes where the failure
 * came from it (NOT_FOUND for an unknown model, version or alias), WEIGHTS_MISMATCH for weights
 * that fail their hash or size check, INPUT_MISMATCH for input (or a new version) that does not
 * fit the model, NETWORK when the coordinator cannot be reached, DISPOSED after dispose().
 */
export type InferenceErrorCode =
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'WEIGHTS_MISMATCH'
  | 'INPUT_MISMATCH'
  | 'NETWORK'
  | 'DISPOSED'
  | 'INTERNAL';

export class InferenceError extends Error {
  constructor(
    readonly code: InferenceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InferenceError';
  }
}

/** Turns a coordinator error answer into an InferenceError with its code. */
export async function fromResponse(res: Response, what: string): Promise<InferenceError> {
  let code: InferenceErrorCode =
    res.status === 404 ? 'NOT_FOUND' : res.status === 400 ? 'BAD_REQUEST' : 'INTERNAL';
  let message = `${what}: HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code === 'NOT_FOUND' || body.error?.code === 'BAD_REQUEST') code = body.error.code;
    if (body.error?.message) message = `${what}: ${body.error.message}`;
  } catch {
    // not a JSON error body; keep the status line
  }
  return new InferenceError(code, message);
}
