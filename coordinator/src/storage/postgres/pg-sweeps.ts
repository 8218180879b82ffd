/**
 * Sweeps and their trials on PostgreSQL (see sweep-records.ts): the statements and the
 * single-statement methods are SQLite's too (../sql/sweeps-sql.ts).
 */
import {
  newTrialValues,
  SWEEPS_SQL,
  SweepQueries,
  sweepValues,
  trialUpdateValues,
} from '../sql/sweeps-sql.ts';
import type { SweepRecord, SweepStore, TrialRecord } from '../sweep-records.ts';
import type { PgDb } from './pg-db.ts';

export class PgSweepStore extends SweepQueries implements SweepStore {
  constructor(private readonly db: PgDb) {
    super(db);
  }

  async createSweep(sweep: SweepRecord, trials: TrialRecord[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(SWEEPS_SQL.insertSweep, sweepValues(sweep));
      for (const t of trials) await tx.run(SWEEPS_SQL.insertTrial, newTrialValues(t));
    });
  }

  async updateTrials(trials: TrialRecord[]): Promise<void> {
    if (trials.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const t of trials) await tx.run(SWEEPS_SQL.updateTrial, trialUpdateValues(t));
    });
  }
}
