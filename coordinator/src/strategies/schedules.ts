/** The schedules the built-in strategies use (strategy.ts says what a schedule decides). */
import type { BufferSchedule, RoundSchedule } from './strategy.ts';

/** A round closes once a quorum of its units is in, or at its deadline with at least one in. */
export const quorumRounds: RoundSchedule = {
  kind: 'rounds',
  closes: ({ done, units, quorum, deadlinePassed }) =>
    done >= Math.ceil(quorum * units) || (deadlinePassed && done > 0),
};

/** A version every `size` accepted updates, each at most `maxStaleness` versions old. */
export function fillBuffer(size: number, maxStaleness: number): BufferSchedule {
  return { kind: 'buffer', closes: (buffered) => buffered >= size, maxStaleness };
}
