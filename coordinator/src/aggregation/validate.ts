/**
 * Checks an update's values before it may touch aggregation: the right number of values,
 * all finite, and an L2 norm within the job's bound. Returns the first failing code.
 */
import type { ErrorCode } from '@gridtab/shared';

export interface ValidationFailure {
  code: ErrorCode;
  message: string;
}

export function validateUpdate(
  payload: Uint8Array,
  expectedValues: number,
  maxNorm: number,
): ValidationFailure | null {
  if (payload.byteLength !== expectedValues * 4) {
    return {
      code: 'WRONG_SHAPE',
      message: `update has ${payload.byteLength} bytes; the model needs ${expectedValues} float32 values (${expectedValues * 4} bytes)`,
    };
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let sumSq = 0;
  for (let i = 0; i < expectedValues; i++) {
    const v = view.getFloat32(i * 4, true);
    if (!Number.isFinite(v)) return { code: 'NON_FINITE', message: `update value ${i} is ${v}` };
    sumSq += v * v;
  }
  const norm = Math.sqrt(sumSq);
  if (norm > maxNorm) {
    return {
      code: 'NORM_TOO_LARGE',
      message: `update norm ${norm.toPrecision(4)} exceeds the job bound ${maxNorm}`,
    };
  }
  return null;
}
