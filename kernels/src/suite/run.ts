/**
 * Runs the correctness suite: each op's cases through the op on whatever backend is active,
 * compared with the CPU reference. `verifyKernels` uses the result to mark kernels on this device.
 */
import type { CheckResult, SuiteCase } from './check.ts';

export interface OpSuite {
  op: string;
  /** Kernel names the suite vouches for: all are marked failed if any case of the op fails. */
  kernels: string[];
  cases: SuiteCase[];
  check(c: SuiteCase): Promise<CheckResult[]>;
}

export async function runSuite(suites: OpSuite[], only?: (c: SuiteCase) => boolean): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const suite of suites) {
    for (const c of suite.cases) {
      if (only && !only(c)) continue;
      try {
        results.push(...(await suite.check(c)));
      } catch (error) {
        // A kernel that throws (shader compile error, lost device) fails its case, it does not
        // abort the suite: the other kernels can still be verified.
        const message = error instanceof Error ? error.message : String(error);
        results.push({
          op: c.op,
          case: c.name,
          output: 'error',
          ok: false,
          worst: Number.POSITIVE_INFINITY,
          at: -1,
          got: Number.NaN,
          want: Number.NaN,
          tolerance: message.slice(0, 300),
        });
      }
    }
  }
  return results;
}
