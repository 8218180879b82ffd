/**
 * Which idle tabs hear `unit:available`. A tab that asked for work and was told to wait is put
 * on this process's list; when units open (a round starts, a lease is freed, a job resumes), the
 * longest-waiting few are woken, a handful per turn of the event loop, and the rest ask again at
 * their retry interval (2 s) as they would anyway. Broadcasting to every socket, as GridTab did,
 * wrote a frame to each of them in one turn: with 5,000 sockets on a process that held its loop
 * for about 180 ms per wake (a CPU profile of bench:load at 10,000 connections over two
 * processes), on every process through the Redis adapter, and woke thousands of tabs to ask for
 * a handful of units.
 */
import { TurnPacer } from './turn-pacer.ts';

/** What the list needs of a socket: a name, and the one event it sends. */
export interface Wakeable {
  id: string;
  connected: boolean;
  emit(event: 'unit:available'): unknown;
}

/** Tabs woken for one wake (wakes within a turn are one). */
export const WAKE_AT_MOST = 256;
/** Frames written per turn while waking. */
const WAKES_PER_TURN = 64;

export class WakeList {
  // Insertion order is waiting order: a Map re-inserted on each wait keeps the oldest first.
  private readonly waiting = new Map<string, Wakeable>();
  private readonly pacer = new TurnPacer(WAKES_PER_TURN);
  private pending = false;

  constructor(private readonly atMost = WAKE_AT_MOST) {}

  /** The tab was told to wait: it is woken by a later wake, after those waiting longer. */
  waits(socket: Wakeable): void {
    this.waiting.delete(socket.id);
    this.waiting.set(socket.id, socket);
  }

  /** The tab has work, asked elsewhere, or left. */
  drop(socket: Pick<Wakeable, 'id'>): void {
    this.waiting.delete(socket.id);
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Units opened: wakes up to `atMost` waiting tabs, starting on the next turn. */
  wake(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      let woken = 0;
      for (const [id, socket] of this.waiting) {
        if (woken >= this.atMost) break;
        this.waiting.delete(id);
        if (!socket.connected) continue;
        woken++;
        this.pacer.run(() => {
          if (socket.connected) socket.emit('unit:available');
        });
      }
    });
  }
}
