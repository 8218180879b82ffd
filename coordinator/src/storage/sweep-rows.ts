/** Rows of the sweeps tables to records, shared by the SQLite and PostgreSQL stores. */
import type { StoredTrialStatus, SweepRecord, TrialRecord } from './sweep-records.ts';

export type Row = Record<string, unknown>;

export const toSweep = (r: Row): SweepRecord => ({
  id: r.id as string,
  name: r.name as string,
  spec: JSON.parse(r.spec as string),
  status: r.status as SweepRecord['status'],
  createdAt: r.created_at as string,
  endedAt: (r.ended_at as string | null) ?? null,
});

export const toTrial = (r: Row): TrialRecord => ({
  id: r.id as string,
  sweepId: r.sweep_id as string,
  index: r.idx as number,
  params: JSON.parse(r.params as string),
  status: r.status as StoredTrialStatus,
  jobId: (r.job_id as string | null) ?? null,
  rung: r.rung as number,
  error: (r.error as string | null) ?? null,
  repro: r.repro ? JSON.parse(r.repro as string) : null,
  reruns: JSON.parse(r.reruns as string),
  createdAt: r.created_at as string,
  endedAt: (r.ended_at as string | null) ?? null,
});
