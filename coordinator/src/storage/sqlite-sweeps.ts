/**
 * Sweeps and their trials on the embedded SQLite store (see sweep-records.ts). It shares the
 * SqliteStore's connection, so its transactions are the store's transactions.
 */
import type Database from 'better-sqlite3';
import type { SweepRecord, SweepStore, TrialRecord } from './sweep-records.ts';
import { type Row, toSweep, toTrial } from './sweep-rows.ts';

export class SqliteSweepStore implements SweepStore {
  constructor(private readonly db: Database.Database) {}

  async createSweep(sweep: SweepRecord, trials: TrialRecord[]): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO sweeps (id, name, spec, status, created_at, ended_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(sweep.id, sweep.name, JSON.stringify(sweep.spec), sweep.status, sweep.createdAt, sweep.endedAt);
      const insert = this.db.prepare(
        `INSERT INTO sweep_trials (id, sweep_id, idx, params, status, job_id, rung, error, repro, reruns, created_at, ended_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const t of trials)
        insert.run(
          t.id,
          t.sweepId,
          t.index,
          JSON.stringify(t.params),
          t.status,
          t.jobId,
          t.rung,
          t.error,
          t.repro ? JSON.stringify(t.repro) : null,
          JSON.stringify(t.reruns),
          t.createdAt,
          t.endedAt,
        );
    })();
  }

  async getSweep(id: string): Promise<SweepRecord | null> {
    const row = this.db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as Row | undefined;
    return row ? toSweep(row) : null;
  }

  async listSweeps(): Promise<SweepRecord[]> {
    return (this.db.prepare('SELECT * FROM sweeps ORDER BY created_at, id').all() as Row[]).map(toSweep);
  }

  async setSweepStatus(id: string, status: SweepRecord['status'], endedAt: string | null): Promise<void> {
    this.db.prepare('UPDATE sweeps SET status = ?, ended_at = ? WHERE id = ?').run(status, endedAt, id);
  }

  async listTrials(sweepId: string): Promise<TrialRecord[]> {
    return (
      this.db.prepare('SELECT * FROM sweep_trials WHERE sweep_id = ? ORDER BY idx').all(sweepId) as Row[]
    ).map(toTrial);
  }

  async updateTrials(trials: TrialRecord[]): Promise<void> {
    const update = this.db.prepare(
      `UPDATE sweep_trials SET status = ?, job_id = ?, rung = ?, error = ?, repro = ?, reruns = ?, ended_at = ?
       WHERE id = ?`,
    );
    this.db.transaction(() => {
      for (const t of trials)
        update.run(
          t.status,
          t.jobId,
          t.rung,
          t.error,
          t.repro ? JSON.stringify(t.repro) : null,
          JSON.stringify(t.reruns),
          t.endedAt,
          t.id,
        );
    })();
  }
}
