/**
 * Sweeps and their trials (sweep-records.ts): the statements and the SweepStore both engines run
 * over their executor, the two transactions (create, update trials) as batches.
 */
import type { SweepRecord, SweepStore, TrialRecord } from '../sweep-records.ts';
import { toSweep, toTrial } from '../sweep-rows.ts';
import type { Db } from './statement.ts';

export const SWEEPS_SQL = {
  insertSweep: 'INSERT INTO sweeps (id, name, spec, status, created_at, ended_at) VALUES (?, ?, ?, ?, ?, ?)',
  insertTrial: `INSERT INTO sweep_trials (id, sweep_id, idx, params, created_at, status, job_id, rung, error, repro, reruns, ended_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  getSweep: 'SELECT * FROM sweeps WHERE id = ?',
  listSweeps: 'SELECT * FROM sweeps ORDER BY created_at, id',
  setSweepStatus: 'UPDATE sweeps SET status = ?, ended_at = ? WHERE id = ?',
  listTrials: 'SELECT * FROM sweep_trials WHERE sweep_id = ? ORDER BY idx',
  updateTrial: `UPDATE sweep_trials SET status = ?, job_id = ?, rung = ?, error = ?, repro = ?, reruns = ?, ended_at = ?
    WHERE id = ?`,
} as const;

const sweepValues = (s: SweepRecord): unknown[] => [
  s.id,
  s.name,
  JSON.stringify(s.spec),
  s.status,
  s.createdAt,
  s.endedAt,
];

/** A trial's changing columns, in `updateTrial`'s order (and the tail of `insertTrial`'s). */
const trialState = (t: TrialRecord): unknown[] => [
  t.status,
  t.jobId,
  t.rung,
  t.error,
  t.repro ? JSON.stringify(t.repro) : null,
  JSON.stringify(t.reruns),
  t.endedAt,
];

const newTrialValues = (t: TrialRecord): unknown[] => [
  t.id,
  t.sweepId,
  t.index,
  JSON.stringify(t.params),
  t.createdAt,
  ...trialState(t),
];

const trialUpdateValues = (t: TrialRecord): unknown[] => [...trialState(t), t.id];

export class SweepQueries implements SweepStore {
  constructor(private readonly sql: Db) {}

  async createSweep(sweep: SweepRecord, trials: TrialRecord[]): Promise<void> {
    await this.sql.batch([
      [SWEEPS_SQL.insertSweep, sweepValues(sweep)],
      ...trials.map((t) => [SWEEPS_SQL.insertTrial, newTrialValues(t)] as const),
    ]);
  }

  async updateTrials(trials: TrialRecord[]): Promise<void> {
    await this.sql.batch(trials.map((t) => [SWEEPS_SQL.updateTrial, trialUpdateValues(t)] as const));
  }

  async getSweep(id: string): Promise<SweepRecord | null> {
    const row = await this.sql.one(SWEEPS_SQL.getSweep, [id]);
    return row ? toSweep(row) : null;
  }

  async listSweeps(): Promise<SweepRecord[]> {
    return (await this.sql.all(SWEEPS_SQL.listSweeps)).map(toSweep);
  }

  async setSweepStatus(id: string, status: SweepRecord['status'], endedAt: string | null): Promise<void> {
    await this.sql.run(SWEEPS_SQL.setSweepStatus, [status, endedAt, id]);
  }

  async listTrials(sweepId: string): Promise<TrialRecord[]> {
    return (await this.sql.all(SWEEPS_SQL.listTrials, [sweepId])).map(toTrial);
  }
}
