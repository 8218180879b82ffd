/**
 * Faults of a simulated contributor, as `submit` behaviours: what an unreliable tab does with
 * an update it has trained. Each records the answers it got so tests can check the coordinator
 * refused what it must.
 */
import type { Result, UpdateAck } from '@gridtab/shared';
import type { SubmitContext } from '../behaviour.ts';

export const FAULTS = ['drop', 'stall', 'duplicate', 'stale'] as const;
export type Fault = (typeof FAULTS)[number];

export interface FaultLog {
  /** Every answer to a send, in order, as 'ok' or the error code. */
  answers: string[];
}

const DROPPED: Result<UpdateAck> = {
  ok: false,
  error: { code: 'INTERNAL', message: 'the simulated tab vanished' },
};

export function submitWith(fault: Fault, log: FaultLog) {
  const record = (r: Result<UpdateAck>) => {
    log.answers.push(r.ok ? 'ok' : r.error.code);
    return r;
  };
  return async (ctx: SubmitContext): Promise<Result<UpdateAck>> => {
    switch (fault) {
      case 'drop':
        // Trained, never sent: the lease must come back after the disconnect grace period.
        ctx.vanish();
        return DROPPED;
      case 'stall':
        // Sends after its lease's deadline, as a tab in a background throttled to nothing would.
        await new Promise((r) => setTimeout(r, Math.max(0, ctx.unit.deadline - Date.now()) + 500));
        return record(await ctx.send());
      case 'duplicate': {
        const first = record(await ctx.send());
        record(await ctx.send()); // the replay must be refused
        return first;
      }
      case 'stale':
        // Holds the update until its round has closed without it, then sends it.
        await ctx.roundClosed();
        return record(await ctx.send());
    }
  };
}
