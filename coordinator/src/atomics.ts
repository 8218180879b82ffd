/** Atomics.waitAsync (Node 16+; TypeScript's ES2023 lib does not declare it). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, ms?: number): { async: boolean; value: unknown };
  }
).waitAsync;

/**
 * Resolves once `view[index]` is no longer `value` (or was not to begin with), or after `ms`:
 * a wait on another thread's progress in shared memory that never blocks the event loop.
 */
export async function waitChange(view: Int32Array, index: number, value: number, ms: number): Promise<void> {
  const r = waitAsync(view, index, value, ms);
  if (r.async) await r.value;
}
