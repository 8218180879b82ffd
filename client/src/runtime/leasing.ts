/**
 * Asking the coordinator for work, and what to do with its answer: train a unit, wait and ask
 * again, or move to the coordinator that runs the work (several coordinators share a store).
 */
import type { Endpoints, WorkUnit } from '@gridtab/shared';
import type { Connection } from './connection.ts';

/** After a refused request (not joined yet, rate limited...): wait this long, not woken early. */
const REFUSED_REQUEST_MS = 2000;

export type NextStep =
  | { kind: 'train'; unit: WorkUnit }
  /** No work here now: wait (woken early by unit:available). */
  | { kind: 'wait'; ms: number }
  | { kind: 'refused'; ms: number; error: string }
  | { kind: 'move'; url: string }
  /** No answer (timed out or disconnected): ask again once joined. */
  | { kind: 'retry' };

export async function requestWork(
  connection: Pick<Connection, 'request' | 'url'>,
  endpoints: Pick<Endpoints, 'urls'>,
): Promise<NextStep> {
  let offer: Awaited<ReturnType<typeof askForUnit>>;
  try {
    offer = await askForUnit(connection);
  } catch {
    return { kind: 'retry' };
  }
  if (!offer.ok) {
    return { kind: 'refused', ms: REFUSED_REQUEST_MS, error: `${offer.error.code}: ${offer.error.message}` };
  }
  if (offer.data.unit) return { kind: 'train', unit: offer.data.unit };
  // Another coordinator runs the work: go there if it is one of ours.
  const { redirect, retryMs } = offer.data;
  if (redirect && endpoints.urls.includes(redirect) && redirect !== connection.url) {
    return { kind: 'move', url: redirect };
  }
  return { kind: 'wait', ms: retryMs };
}

/**
 * How long the coordinator may hold a request while no unit is free (long polling): a round's
 * next units then reach the tab as they open, not after a `unit:available` and a second ask.
 */
export const UNIT_WAIT_MS = 5000;

const askForUnit = (connection: Pick<Connection, 'request'>) =>
  connection.request((s) => s.emitWithAck('unit:request', { waitMs: UNIT_WAIT_MS }));
