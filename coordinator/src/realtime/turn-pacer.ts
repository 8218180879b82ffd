/**
 * Runs queued work a few items per turn of the event loop (setImmediate between), so a burst
 * never holds the loop for long: I/O that arrived meanwhile (a health check, another tab's
 * update) is served between two slices. bench:abuse's join floods found the two bursts it paces:
 * hundreds of socket handshakes arriving at once (each a websocket upgrade with its writes), and
 * the answers to a batch of joins (join-writes.ts) written all at once when the batch commits.
 */
export class TurnPacer {
  private queue: (() => void)[] = [];
  private scheduled = false;

  constructor(private readonly perTurn: number) {}

  /** Runs `work` in a later turn, after the work queued before it. */
  run(work: () => void): void {
    this.queue.push(work);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Items waiting for their turn. */
  get waiting(): number {
    return this.queue.length;
  }

  private readonly drain = () => {
    const now = this.queue.splice(0, this.perTurn);
    let failure: { error: unknown } | null = null;
    for (const work of now) {
      try {
        work();
      } catch (error) {
        // The others of this turn still run; the first error is thrown after them, as any
        // throwing callback's would be.
        failure ??= { error };
      }
    }
    if (this.queue.length > 0) setImmediate(this.drain);
    else this.scheduled = false;
    if (failure) throw failure.error;
  };
}
