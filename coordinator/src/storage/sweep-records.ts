/**
 * What hyperparameter sweeps keep in the Store: the sweep (its validated spec and status) and
 * its trials (parameters, the job each runs as, ASHA rung, failure reason, what a re-run needs).
 * Curves are not copied here: a trial's curve is its job's versions. Every method returns a
 * Promise, as the Store is becoming async; the embedded store answers at once.
 */
import type { SweepSpec, SweepStatus, TrialRepro, TrialStatus } from '@gridtab/shared';

export interface SweepRecord {
  id: string;
  name: string;
  spec: SweepSpec;
  status: SweepStatus;
  createdAt: string;
  endedAt: string | null;
}

/** A trial's status as the sweep decided it; `waiting` is derived (its job held at a rung). */
export type StoredTrialStatus = Exclude<TrialStatus, 'waiting'>;

export interface TrialRecord {
  id: string;
  sweepId: string;
  index: number;
  params: Record<string, unknown>;
  status: StoredTrialStatus;
  jobId: string | null;
  /** ASHA rungs passed: the trial may train up to rung `rung` (or the last round past all). */
  rung: number;
  error: string | null;
  repro: TrialRepro | null;
  reruns: string[];
  createdAt: string;
  endedAt: string | null;
}

export interface SweepStore {
  /** Records a sweep with all its trials (pending) in one transaction. */
  createSweep(sweep: SweepRecord, trials: TrialRecord[]): Promise<void>;
  getSweep(id: string): Promise<SweepRecord | null>;
  listSweeps(): Promise<SweepRecord[]>;
  setSweepStatus(id: string, status: SweepStatus, endedAt: string | null): Promise<void>;
  /** Oldest (lowest index) first. */
  listTrials(sweepId: string): Promise<TrialRecord[]>;
  /** Writes the trials' mutable fields in one transaction (an ASHA rung decision is one call). */
  updateTrials(trials: TrialRecord[]): Promise<void>;
}
