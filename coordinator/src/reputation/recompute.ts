/**
 * The coordinator's own replica of a unit, for spot-checks: the same trainer the tabs run
 * (@gridtab/shared/trainer, a public export of the client package), on the same base weights, shards, seed and hyperparameters,
 * with TF.js in Node (wasm, cpu when wasm cannot start). Recomputing here rather than handing
 * the unit to a second tab works with a single tab, cannot pair two colluding tabs, and needs
 * no protocol change; it costs the coordinator one unit of training per check, so checks run
 * one at a time.
 */

import type { WorkUnit } from '@gridtab/shared';
import { Trainer } from '@gridtab/shared/trainer';
import { initTf } from '../evaluation/tf-node.ts';

export interface Recomputer {
  /**
   * The delta an honest tab would have sent for this unit. `fused` runs the tab's code path (the
   * fused loss for a webgpu tab); both paths train on the same loss, so it is not needed for
   * agreement, only to recompute what the tab ran.
   */
  recompute(unit: WorkUnit, base: Float32Array, shards: Uint8Array[], fused: boolean): Promise<Float32Array>;
}

export class TfRecomputer implements Recomputer {
  private readonly trainer = new Trainer();
  private queue: Promise<unknown> = Promise.resolve();

  recompute(unit: WorkUnit, base: Float32Array, shards: Uint8Array[], fused: boolean): Promise<Float32Array> {
    const run = async () => {
      await initTf();
      const result = await this.trainer.trainUnit(
        unit,
        base,
        shards,
        () => {},
        () => false,
        { fused },
      );
      return result.delta;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  dispose(): void {
    this.trainer.dispose();
  }
}

/** ||update - replica|| / ||replica||: 0 for an exact replica, 1 for a zero (lazy) update. */
export function relativeDistance(update: Float32Array, replica: Float32Array): number {
  if (update.length !== replica.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < replica.length; i++) {
    diff += (update[i] - replica[i]) ** 2;
    ref += replica[i] ** 2;
  }
  if (ref === 0) return diff === 0 ? 0 : Number.POSITIVE_INFINITY;
  return Math.sqrt(diff / ref);
}
