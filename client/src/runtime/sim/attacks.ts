/**
 * Attacks on the update a simulated contributor sends. Most are `tamper` functions: each takes
 * the honestly trained delta and returns what a hostile or broken tab would send instead. Two
 * need more than the delta: label flip poisons the data the real trainer runs on (labelFlip
 * gives the class permutation), and "a little is enough" needs the colluders' estimate of the
 * honest updates' spread (alie.ts).
 */
import type { WorkUnit } from '@gridtab/shared';

export const DELTA_ATTACKS = [
  'sign-flip',
  'scaled',
  'noise',
  'nan',
  'wrong-shape',
  'lazy',
  'over-norm',
] as const;
export type DeltaAttack = (typeof DELTA_ATTACKS)[number];
export const ATTACKS = [...DELTA_ATTACKS, 'label-flip', 'alie'] as const;
export type Attack = (typeof ATTACKS)[number];

/** Attacks that validation must refuse, with the code it must answer. */
export const REFUSED_ATTACKS: Partial<Record<Attack, string>> = {
  nan: 'NON_FINITE',
  'wrong-shape': 'WRONG_SHAPE',
  'over-norm': 'NORM_TOO_LARGE',
};

export interface AttackOptions {
  /** Factor of `scaled` (negative: a scaled sign flip, the strongest simple attack on a mean). */
  scale?: number;
  /** Standard deviation of `noise`. */
  sigma?: number;
  seed?: number;
}

function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

export function tamperWith(
  attack: DeltaAttack,
  opts: AttackOptions = {},
): (delta: Float32Array, unit: WorkUnit) => Float32Array {
  switch (attack) {
    case 'sign-flip':
      return (d) => d.map((v) => -v);
    case 'scaled': {
      const k = opts.scale ?? -10;
      return (d) => d.map((v) => k * v);
    }
    case 'noise': {
      const next = gaussian(opts.seed ?? 1);
      const sigma = opts.sigma ?? 0.1;
      return (d) => d.map(() => sigma * next());
    }
    case 'nan':
      return (d) => {
        const out = d.slice();
        out[Math.floor(out.length / 2)] = Number.NaN;
        return out;
      };
    case 'wrong-shape':
      return (d) => d.subarray(0, d.length - 1).slice();
    case 'lazy':
      return (d) => new Float32Array(d.length);
    case 'over-norm':
      // Far past any sane bound: the job's maxUpdateNorm must refuse it.
      return (d) => d.map((v, i) => (i === 0 ? 1e12 : v));
  }
}

/**
 * Label flip: the class permutation a poisoned tab trains with, label l read as
 * numClasses - 1 - l (Fashion-MNIST: T-shirt <-> ankle boot, trouser <-> bag, ...). Every
 * class moves, so the whole update pushes towards wrong answers while looking like training.
 */
export function labelFlip(numClasses: number): Int32Array {
  return Int32Array.from({ length: numClasses }, (_, l) => numClasses - 1 - l);
}
