/**
 * "A little is enough" (Baruch, Baruch and Goldberg, NeurIPS 2019): colluding attackers estimate
 * the per-coordinate mean and standard deviation of honest updates and all send
 * mean - z * std. Each coordinate stays within the honest spread, so coordinate-wise rules
 * (median, trimmed mean) cannot tell it from an honest outlier, yet every coordinate is pushed
 * the same way. z is the largest that still keeps the attackers' value inside what a majority
 * rule would pick (the paper's z_max).
 *
 * The estimate comes from a Collusion pool the colluders share. In the paper each attacker
 * trains honestly on its own data and the pool holds those honest updates; a harness may also
 * let honest contributors deposit theirs, an omniscient and so stronger attacker.
 */
import type { WorkUnit } from '@gridtab/shared';

/** The paper's z_max for n workers of which m collude: s = floor(n/2 + 1) - m, z = Phi^-1((n - s) / n). */
export function alieZ(n: number, m: number): number {
  const s = Math.floor(n / 2 + 1) - m;
  return normalQuantile((n - s) / n);
}

/** Standard normal CDF via erf (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Inverse of normalCdf by bisection: monotone, and precise enough for choosing z. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normal quantile of ${p}`);
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Honest deltas the colluders pool, per job and round (the base they were trained from). */
export class Collusion {
  private readonly pools = new Map<string, Float32Array[]>();
  private readonly waiters = new Set<() => void>();

  private key(unit: WorkUnit): string {
    return `${unit.jobId}#${unit.round}`;
  }

  deposit(unit: WorkUnit, delta: Float32Array): void {
    const pool = this.pools.get(this.key(unit)) ?? [];
    pool.push(delta.slice());
    this.pools.set(this.key(unit), pool);
    for (const wake of [...this.waiters]) wake();
  }

  /** The pool of a unit's round once it holds `want` deltas, or what it holds after `timeoutMs`. */
  async gather(unit: WorkUnit, want: number, timeoutMs: number): Promise<Float32Array[]> {
    const pool = () => this.pools.get(this.key(unit)) ?? [];
    const until = Date.now() + timeoutMs;
    while (pool().length < want && Date.now() < until) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(0, until - Date.now()));
        this.waiters.add(wake);
      });
    }
    return pool();
  }
}

/** mean - z * std per coordinate (population std) of the pooled deltas. */
export function alieUpdate(pool: Float32Array[], z: number): Float32Array {
  if (pool.length === 0) throw new Error('ALIE needs at least one honest delta');
  const n = pool[0].length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let sq = 0;
    for (const d of pool) {
      sum += d[i];
      sq += d[i] * d[i];
    }
    const mean = sum / pool.length;
    const std = Math.sqrt(Math.max(0, sq / pool.length - mean * mean));
    out[i] = mean - z * std;
  }
  return out;
}

export interface AlieOptions {
  z: number;
  /** Honest deltas to wait for in the round before estimating (the attacker's own included). */
  want: number;
  timeoutMs?: number;
}

/** The tamper function of an ALIE attacker: pools its own honest delta, then sends mean - z * std. */
export function alieTamper(collusion: Collusion, opts: AlieOptions) {
  return async (delta: Float32Array, unit: WorkUnit): Promise<Float32Array> => {
    collusion.deposit(unit, delta);
    return alieUpdate(await collusion.gather(unit, opts.want, opts.timeoutMs ?? 30_000), opts.z);
  };
}
