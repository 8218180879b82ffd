/** Sweeps and their trials on PostgreSQL (see sweep-records.ts and sqlite-sweeps.ts). */
import type pg from 'pg';
import type { SweepRecord, SweepStore, TrialRecord } from '../sweep-records.ts';
import { type Row, toSweep, toTrial } from '../sweep-rows.ts';
import { transaction } from './pg-tx.ts';

const trialValues = (t: TrialRecord) => [
  t.status,
  t.jobId,
  t.rung,
  t.error,
  t.repro ? JSON.stringify(t.repro) : null,
  JSON.stringify(t.reruns),
  t.endedAt,
];

export class PgSweepStore implements SweepStore {
  constructor(private readonly pool: pg.Pool) {}

  async createSweep(sweep: SweepRecord, trials: TrialRecord[]): Promise<void> {
    await transaction(this.pool, async (client) => {
      await client.query(
        'INSERT INTO sweeps (id, name, spec, status, created_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [sweep.id, sweep.name, JSON.stringify(sweep.spec), sweep.status, sweep.createdAt, sweep.endedAt],
      );
      for (const t of trials)
        await client.query(
          `INSERT INTO sweep_trials (id, sweep_id, idx, params, created_at, status, job_id, rung, error, repro, reruns, ended_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [t.id, t.sweepId, t.index, JSON.stringify(t.params), t.createdAt, ...trialValues(t)],
        );
    });
  }

  async getSweep(id: string): Promise<SweepRecord | null> {
    const row = (await this.pool.query('SELECT * FROM sweeps WHERE id = $1', [id])).rows[0] as
      | Row
      | undefined;
    return row ? toSweep(row) : null;
  }

  async listSweeps(): Promise<SweepRecord[]> {
    return ((await this.pool.query('SELECT * FROM sweeps ORDER BY created_at, id')).rows as Row[]).map(
      toSweep,
    );
  }

  async setSweepStatus(id: string, status: SweepRecord['status'], endedAt: string | null): Promise<void> {
    await this.pool.query('UPDATE sweeps SET status = $1, ended_at = $2 WHERE id = $3', [
      status,
      endedAt,
      id,
    ]);
  }

  async listTrials(sweepId: string): Promise<TrialRecord[]> {
    const rows = (
      await this.pool.query('SELECT * FROM sweep_trials WHERE sweep_id = $1 ORDER BY idx', [sweepId])
    ).rows as Row[];
    return rows.map(toTrial);
  }

  async updateTrials(trials: TrialRecord[]): Promise<void> {
    if (trials.length === 0) return;
    await transaction(this.pool, async (client) => {
      for (const t of trials)
        await client.query(
          `UPDATE sweep_trials SET status = $1, job_id = $2, rung = $3, error = $4, repro = $5, reruns = $6, ended_at = $7
           WHERE id = $8`,
          [...trialValues(t), t.id],
        );
    });
  }
}
