/**
 * Open socket.io connections per client address, for GRIDTAB_MAX_CONNECTIONS_PER_ADDRESS. The
 * join limit refuses a flood's joins, but only after each socket has cost a websocket upgrade
 * and a handshake (bench:abuse: 500 sockets from one address kept the loop 90% busy); refusing
 * the handshake past a per-address count is cheaper. Checked in socket.io's `allowRequest`,
 * counted on the engine's connection and close, so a handshake in flight is not yet counted
 * (the cap may be passed by the handshakes of one instant, as the process cap may).
 */
export class AddressConnections {
  private readonly open = new Map<string, number>();

  /** 0 means no cap. */
  constructor(private readonly cap: number) {}

  admits(address: string): boolean {
    return this.cap === 0 || (this.open.get(address) ?? 0) < this.cap;
  }

  /** Counts a connection; the returned function uncounts it (once). */
  add(address: string): () => void {
    this.open.set(address, (this.open.get(address) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.open.get(address) ?? 1) - 1;
      if (n > 0) this.open.set(address, n);
      else this.open.delete(address);
    };
  }

  count(address: string): number {
    return this.open.get(address) ?? 0;
  }
}
