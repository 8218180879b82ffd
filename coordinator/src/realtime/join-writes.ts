/**
 * Group commit for the contributor rows that joins write. Every contributor:join upserts its
 * row (first and last seen, backend). Written one at a time, each join cost a transaction with an
 * fsync on the event loop (SQLite synchronous = FULL): bench:abuse measured stalls of 100-600 ms
 * during a join flood, one fsync up to 415 ms on a shared disk. Here joins that arrive within
 * `flushMs` of each other are coalesced (one upsert per client id) and written as one
 * transaction, committed lazily (sql/statement.ts, BatchOptions.lazy): no fsync at commit.
 *
 * Why this durability trade is right for these rows and no others:
 * - A contributor row is not acknowledged data. It carries who joined, when, on what backend,
 *   and two counters. A lost row (only a crash of the machine, or of PostgreSQL, can lose one:
 *   a coordinator crash loses nothing, the commit is in the WAL) is written again at that
 *   client's next join. The id a lost new row had is then given anew; nothing durable names it,
 *   because anything durable that could (an accepted update, a spot-check) is written with an
 *   fsync after the join, and on SQLite that fsync flushes the same WAL with the row in it.
 * - The counters (units_done, samples_done: recordContribution) and reputation (its own tables,
 *   reputation-records.ts) are not written here: they stay fsynced on their own paths, after the
 *   accepted update that earns them.
 * - Jobs, accepted updates and versions keep synchronous = FULL (or synchronous_commit on) and
 *   are on disk before their acknowledgement, as before.
 *
 * A join still waits for its batch to commit (a few ms) before it is answered: the id it gets is
 * the row's own (a client that joined before keeps its id), a ban is read after the row exists,
 * and units, counters and bans never name a row that is not yet written. Batches are written one
 * after another. `close()` writes what is queued and waits for it: a graceful shutdown loses no
 * join that was received.
 */
import type { ContributorJoin, ContributorRecord, Store } from '../storage/store.ts';
import { TurnPacer } from './turn-pacer.ts';

export interface JoinWritesOptions {
  /** How long the first join of a batch waits for others (default 10 ms). */
  flushMs: number;
  /** A batch this large is written at once. */
  maxBatch: number;
  /**
   * Joins of a written batch answered per turn of the event loop: each answer continues the
   * join (ban check, reply written to its socket), and 500 of them at once held the loop.
   */
  answersPerTurn: number;
}

export const JOIN_WRITES_DEFAULTS: JoinWritesOptions = { flushMs: 10, maxBatch: 500, answersPerTurn: 32 };

interface Waiter {
  resolve(record: ContributorRecord): void;
  reject(error: unknown): void;
}

export class JoinWrites {
  /** The next batch: by client id, the latest join's values and everyone waiting for it. */
  private pending = new Map<string, { join: ContributorJoin; waiters: Waiter[] }>();
  private timer: NodeJS.Timeout | null = null;
  /** The batch being written (batches go one after another). */
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Batches written and joins they held, for tests and the bench. */
  readonly stats = { batches: 0, joins: 0, rows: 0 };
  private readonly answers: TurnPacer;

  constructor(
    private readonly store: Pick<Store, 'upsertContributors'>,
    private readonly options: JoinWritesOptions = JOIN_WRITES_DEFAULTS,
  ) {
    this.answers = new TurnPacer(options.answersPerTurn);
  }

  /** The joins queued and not yet handed to the store. */
  get queued(): number {
    return this.pending.size;
  }

  /** Records a join; resolves with the contributor's row once its batch has committed. */
  upsert(clientId: string, backend: string | null, now: string): Promise<ContributorRecord> {
    return new Promise((resolve, reject) => {
      const entry = this.pending.get(clientId);
      if (entry) {
        entry.join = { clientId, backend, now };
        entry.waiters.push({ resolve, reject });
      } else this.pending.set(clientId, { join: { clientId, backend, now }, waiters: [{ resolve, reject }] });
      this.stats.joins++;
      if (this.closed || this.pending.size >= this.options.maxBatch) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
    });
  }

  /** Hands the queued joins to the store now; resolves when every batch so far is written. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return this.writing;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.writing = this.writing.then(async () => {
      try {
        const records = await this.store.upsertContributors(batch.map((e) => e.join));
        this.stats.batches++;
        this.stats.rows += batch.length;
        batch.forEach((e, i) => {
          for (const w of e.waiters) this.answers.run(() => w.resolve(records[i]!));
        });
      } catch (error) {
        for (const e of batch) for (const w of e.waiters) this.answers.run(() => w.reject(error));
      }
    });
    return this.writing;
  }

  /** Writes what is queued and waits for it; later joins are written at once, one batch each. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
