/**
 * The fault and attack harness: Node contributors running the real runtime (wasm or cpu
 * backend) with an injected behaviour. `simContributor` takes what the simulated tab does; which
 * units it attacks can depend on the unit, so a test can make exactly a fraction of a round's
 * updates hostile whatever the scheduling order.
 */
import type { WorkUnit } from '@gridtab/shared';
import type { Behaviour } from '../behaviour.ts';
import { createNodeContributor } from '../index.ts';
import type { Contributor } from '../types.ts';
import { type AlieOptions, alieTamper, type Collusion } from './alie.ts';
import { type Attack, type AttackOptions, labelFlip, tamperWith } from './attacks.ts';
import { type Fault, type FaultLog, submitWith } from './faults.ts';

export { type AlieOptions, alieZ, Collusion } from './alie.ts';
export {
  ATTACKS,
  type Attack,
  DELTA_ATTACKS,
  type DeltaAttack,
  labelFlip,
  REFUSED_ATTACKS,
  tamperWith,
} from './attacks.ts';
export { FAULTS, type Fault, type FaultLog, submitWith } from './faults.ts';

export interface SimOptions {
  coordinatorUrl: string;
  attack?: Attack;
  attackOptions?: AttackOptions;
  /** Which units the attack applies to (default: all). */
  hostile?: (unit: WorkUnit) => boolean;
  fault?: Fault;
  /**
   * Churn: after this many units the tab vanishes while holding its next unit (a closed tab at a
   * random point, as the coordinator sees it: a lease held and never delivered).
   */
  dropAfterUnits?: number;
  /** A device this many times slower: each unit is delivered after (factor - 1) x its training time. */
  slowFactor?: number;
  /**
   * The colluders' pool: an `alie` attacker estimates from it, every other contributor given
   * it deposits its honest delta there too (an omniscient attacker, stronger than the paper's).
   */
  collusion?: Collusion;
  alie?: AlieOptions;
}

export interface SimContributor {
  contributor: Contributor;
  /** Answers to every send a fault made, and to every attacked submission. */
  log: FaultLog;
  /** Attacked submissions and their answers. */
  attacked: string[];
}

/** The index of a unit within its round (unit ids end in `.u<index>`). */
export function unitIndex(unit: WorkUnit): number {
  return Number(unit.unitId.slice(unit.unitId.lastIndexOf('.u') + 2));
}

export function simContributor(opts: SimOptions): SimContributor {
  const log: FaultLog = { answers: [] };
  const attacked: string[] = [];
  const hostile = opts.hostile ?? (() => true);
  let units = 0;
  const tamper = attackTamper(opts);
  const fault = opts.fault ? submitWith(opts.fault, log) : null;
  const { collusion } = opts;
  const behaviour: Behaviour = {
    tamper: (d, unit) => {
      if (tamper && hostile(unit)) return tamper(d, unit);
      collusion?.deposit(unit, d);
      return d;
    },
    relabel: (unit) => (opts.attack === 'label-flip' && hostile(unit) ? labelFlip(10) : undefined),
    async submit(ctx) {
      if (opts.dropAfterUnits !== undefined && units++ >= opts.dropAfterUnits) {
        ctx.vanish();
        return { ok: false, error: { code: 'INTERNAL', message: 'the simulated tab vanished' } };
      }
      if (opts.slowFactor && opts.slowFactor > 1)
        await new Promise((r) => setTimeout(r, (opts.slowFactor! - 1) * ctx.trainMs));
      if (fault) return fault(ctx);
      const answer = await ctx.send();
      if (opts.attack && hostile(ctx.unit)) attacked.push(answer.ok ? 'ok' : answer.error.code);
      return answer;
    },
  };
  const contributor = createNodeContributor({
    coordinatorUrl: opts.coordinatorUrl,
    benchmarkMs: 100,
    behaviour,
  });
  return { contributor, log, attacked };
}

/** The delta rewrite of an attack; label flip has none (it poisons the training data instead). */
function attackTamper(
  opts: SimOptions,
): ((d: Float32Array, unit: WorkUnit) => Float32Array | Promise<Float32Array>) | null {
  switch (opts.attack) {
    case undefined:
    case 'label-flip':
      return null;
    case 'alie':
      if (!opts.collusion || !opts.alie) throw new Error('an alie attacker needs collusion and alie options');
      return alieTamper(opts.collusion, opts.alie);
    default:
      return tamperWith(opts.attack, opts.attackOptions);
  }
}
