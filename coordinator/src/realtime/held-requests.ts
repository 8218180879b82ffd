/**
 * Unit requests held open until work comes (long polling, as SQS's WaitTimeSeconds does). A tab
 * that asks while no unit is free (its job's round is closing, say) and said it may wait
 * (`waitMs` in `unit:request`) is answered when units open rather than told to wait: without
 * this, a round's tabs heard `unit:available` and only then asked again, and bench:train traced
 * that hop from the coordinator's wake to the tabs' requests at 30-220 ms of every round, on a
 * machine whose cores the tabs share with the coordinator. Held requests are tried in the order
 * they came, on every wake, until one finds no unit; one held past its `waitMs` gets the answer
 * it would have had at once (no unit, ask again after `retryMs`).
 */
import type { UnitOffer } from '@gridtab/shared';

/** What holding needs of a socket: a name, and whether it is still there. */
export interface Holder {
  id: string;
  connected: boolean;
}

interface Held {
  holder: Holder;
  contributorId: string;
  /** The answer had at once, given when the hold ends without a unit. */
  none: UnitOffer;
  resolve: (offer: UnitOffer) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
  /** A try for this request is running: its timeout waits for the try's answer. */
  asking: boolean;
  expired: boolean;
}

export class HeldRequests {
  // Insertion order is arrival order: the oldest request is tried first.
  private readonly held = new Map<string, Held>();
  private passing = false;
  private again = false;
  private wakes = 0;

  /** `ask`: the scheduler's request for a unit (called again for each try). */
  constructor(private readonly ask: (contributorId: string) => Promise<UnitOffer>) {}

  get size(): number {
    return this.held.size;
  }

  /** A mark to pass to `hold`: taken before the first ask, it tells whether a wake came since. */
  mark(): number {
    return this.wakes;
  }

  /**
   * Holds the request of `holder` (which had `none` when it asked, at `mark`) for up to `waitMs`:
   * settles with a unit if one opens meanwhile, else with `none`. A second request of the same
   * socket ends the first, answered with `none`.
   */
  hold(
    holder: Holder,
    contributorId: string,
    none: UnitOffer,
    waitMs: number,
    mark: number,
  ): Promise<UnitOffer> {
    this.drop(holder);
    return new Promise<UnitOffer>((resolve, reject) => {
      const entry: Held = {
        holder,
        contributorId,
        none,
        resolve,
        reject,
        asking: false,
        expired: false,
        timer: setTimeout(() => {
          entry.expired = true;
          if (!entry.asking) this.end(entry, none);
        }, waitMs),
      };
      this.held.set(holder.id, entry);
      // Units opened between the first ask and now: that wake's pass did not see this request.
      if (mark !== this.wakes) this.wake();
    });
  }

  /** The socket left, or asked anew: its held request ends with the answer it had. */
  drop(holder: Pick<Holder, 'id'>): void {
    const entry = this.held.get(holder.id);
    if (entry && !entry.asking) this.end(entry, entry.none);
  }

  /** Units opened: tries the held requests, oldest first, until one finds no unit. */
  wake(): void {
    this.wakes++;
    if (this.passing) {
      this.again = true;
      return;
    }
    void this.pass();
  }

  /** Answers every held request with what it had (the server is closing). */
  close(): void {
    for (const entry of [...this.held.values()]) if (!entry.asking) this.end(entry, entry.none);
  }

  private async pass(): Promise<void> {
    this.passing = true;
    try {
      do {
        this.again = false;
        for (const entry of [...this.held.values()]) {
          if (this.held.get(entry.holder.id) !== entry) continue;
          if (!entry.holder.connected) {
            this.end(entry, entry.none);
            continue;
          }
          entry.asking = true;
          let offer: UnitOffer;
          try {
            offer = await this.ask(entry.contributorId);
          } catch (e) {
            entry.asking = false;
            this.end(entry, null, e);
            continue;
          }
          entry.asking = false;
          if (offer.unit) this.end(entry, offer);
          else if (entry.expired || !entry.holder.connected) this.end(entry, entry.none);
          else break; // no unit for this one: none for those after it either, until the next wake
        }
      } while (this.again);
    } finally {
      this.passing = false;
    }
  }

  private end(entry: Held, offer: UnitOffer | null, error?: unknown): void {
    clearTimeout(entry.timer);
    if (this.held.get(entry.holder.id) === entry) this.held.delete(entry.holder.id);
    if (offer) entry.resolve(offer);
    else entry.reject(error);
  }
}
