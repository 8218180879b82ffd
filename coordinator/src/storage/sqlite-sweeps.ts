/**
 * Sweeps and their trials on the embedded SQLite store (see sweep-records.ts). It shares the
 * SqliteStore's connection, so its transactions are the store's transactions; the statements
 * and the single-statement methods are PostgreSQL's too (sql/sweeps-sql.ts).
 */

import {
  newTrialValues,
  SWEEPS_SQL,
  SweepQueries,
  sweepValues,
  trialUpdateValues,
} from './sql/sweeps-sql.ts';
import type { SqliteDb } from './sqlite-db.ts';
import type { SweepRecord, SweepStore, TrialRecord } from './sweep-records.ts';

export class SqliteSweepStore extends SweepQueries implements SweepStore {
  constructor(private readonly db: SqliteDb) {
    super(db);
  }

  async createSweep(sweep: SweepRecord, trials: TrialRecord[]): Promise<void> {
    this.db.transaction(() => {
      this.db.run(SWEEPS_SQL.insertSweep, sweepValues(sweep));
      for (const t of trials) this.db.run(SWEEPS_SQL.insertTrial, newTrialValues(t));
    });
  }

  async updateTrials(trials: TrialRecord[]): Promise<void> {
    this.db.transaction(() => {
      for (const t of trials) this.db.run(SWEEPS_SQL.updateTrial, trialUpdateValues(t));
    });
  }
}
