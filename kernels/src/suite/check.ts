/**
 * Shared pieces of the correctness suite: seeded inputs, the fill kinds every case can ask for,
 * and one comparison rule. Browser-safe (no Node imports): the same code runs in vitest through
 * Dawn, in headless Chromium through the harness page, and in `verifyKernels` on a user's device.
 */

/** How a case fills its inputs. `large` probes overflow and cancellation, `zeros` the degenerate paths. */
export type Fill = 'random' | 'zeros' | 'large' | 'ramp';

export interface SuiteCase<P = Record<string, number | string>> {
  op: string;
  name: string;
  fill: Fill;
  params: P;
  /** Large enough to matter on a CPU adapter; skipped by a quick verification. */
  heavy?: boolean;
}

/** One compared output of one case. */
export interface CheckResult {
  op: string;
  case: string;
  output: string;
  ok: boolean;
  /** Largest |got - want| / allowed over the output; ok iff <= 1. */
  worst: number;
  /** Index of the worst element, with its values, for the failure message. */
  at: number;
  got: number;
  want: number;
  tolerance: string;
}

/** mulberry32: small, fast and identical in every JS engine, so cases are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills `n` values; `scale` is the magnitude of `random` (and 1e4 times it for `large`). */
export function fill(kind: Fill, n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  if (kind === 'zeros') return out;
  const next = rng(seed);
  for (let i = 0; i < n; i++) {
    if (kind === 'ramp') out[i] = (((i * 7) % 23) - 11) * scale * 0.1;
    else out[i] = (next() * 2 - 1) * scale * (kind === 'large' ? 1e4 : 1);
  }
  return out;
}

export interface Tolerance {
  /** Absolute floor. */
  atol: number;
  /** Relative to `magnitude[i]` when given (e.g. sum |a||b| of a dot product), else to |want[i]|. */
  rtol: number;
  magnitude?: ArrayLike<number>;
}

/** Compares elementwise: |got - want| <= atol + rtol * (magnitude ?? |want|). NaN never passes. */
export function compare(
  op: string,
  caseName: string,
  output: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: Tolerance,
): CheckResult {
  const tolerance = `atol ${tol.atol}, rtol ${tol.rtol}${tol.magnitude ? ' of sum|terms|' : ''}`;
  const base = { op, case: caseName, output, tolerance };
  if (got.length !== want.length) {
    return {
      ...base,
      ok: false,
      worst: Number.POSITIVE_INFINITY,
      at: -1,
      got: got.length,
      want: want.length,
    };
  }
  let worst = 0;
  let at = 0;
  for (let i = 0; i < want.length; i++) {
    const scale = tol.magnitude ? tol.magnitude[i] : Math.abs(want[i]);
    // Exact equality passes even where the allowance is 0 (0/0 would read as NaN).
    const ratio = got[i] === want[i] ? 0 : Math.abs(got[i] - want[i]) / (tol.atol + tol.rtol * scale);
    // `!(ratio <= worst)` also catches NaN, which must fail rather than be skipped.
    if (!(ratio <= worst)) {
      worst = Number.isNaN(ratio) ? Number.POSITIVE_INFINITY : ratio;
      at = i;
      if (worst === Number.POSITIVE_INFINITY) break;
    }
  }
  return { ...base, ok: worst <= 1, worst, at, got: got[at], want: want[at] };
}

export function describeFailure(r: CheckResult): string {
  return `${r.op}/${r.case}/${r.output}: element ${r.at} got ${r.got} want ${r.want} (${r.worst.toFixed(2)}x ${r.tolerance})`;
}
