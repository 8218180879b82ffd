/**
 * Lowers the priority of the calling thread only (not the process), for background work that
 * must not take cores from what is waiting on it: on Linux a thread has a nice value of its own,
 * and /proc/thread-self names the caller's thread id. Elsewhere (or if refused) nothing changes
 * and the thread keeps the process's priority. Raising a nice value needs no privilege.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Returns the thread id whose nice value was set, or null where it could not be. */
export function lowerThreadPriority(nice: number): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return null;
    setPriority(tid, nice);
    return tid;
  } catch {
    return null;
  }
}
