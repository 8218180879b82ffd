/**
 * The budget guard: after a job's usage moves (and once a second for wall time), it measures
 * the job against its budget; at a limit it pauses or stops the job through the scheduler, and
 * it keeps one `budget` alert finding per job for the highest alertAt fraction crossed. The
 * reason is not stored: the job view derives it from the same measurement, so a raised limit
 * clears it at once.
 */
import type { BudgetStatus } from '@gridtab/shared';
import type { Clock } from '../clock.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { JobRecord, Store } from '../storage/store.ts';
import type { Finding } from '../telemetry/alert-rules.ts';
import { budgetStatus, crossedFractions, estimateCost, type Spending } from './cost.ts';
import type { UsageMeter } from './meter.ts';
import { jobStorageBytes } from './storage.ts';
import type { PriceTable } from './usage-config.ts';

export interface GuardDeps {
  store: Store;
  blobs: BlobStore;
  meter: UsageMeter;
  clock: Clock;
  prices: PriceTable | null;
  /** The scheduler's status change, so open rounds and leases follow. */
  setStatus: (jobId: string, status: 'paused' | 'cancelled') => Promise<unknown>;
  log: (msg: string) => void;
}

export class BudgetGuard {
  private readonly checking = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly alerts = new Map<string, Finding>();
  /**
   * Which jobs declare a budget, so usage of the others asks nothing of the store (the hot path
   * of an accepted update reads no job). Refreshed by checkAll every second and by `forget`.
   */
  private readonly budgeted = new Map<string, boolean>();

  constructor(private readonly deps: GuardDeps) {}

  /** What the job has spent, as budgets count it. */
  async spending(job: JobRecord, withStorage = false): Promise<Spending> {
    const { store, blobs, meter, clock, prices } = this.deps;
    const usage = await meter.totals(job.id);
    // Storage costs a walk over the job's blobs: measured only when a limit or a price needs it.
    const needsStorage = withStorage || job.spec.budget?.storageBytes !== undefined || prices !== null;
    const storageBytes = needsStorage ? await jobStorageBytes(store, blobs, job.id) : 0;
    const wallTimeMs = Math.max(0, clock.now() - Date.parse(job.createdAt));
    const cost = prices ? estimateCost(usage, storageBytes, wallTimeMs, prices) : null;
    return { usage, storageBytes, wallTimeMs, cost };
  }

  /** The job's budget status, or undefined when it declares no budget. */
  async statusOf(job: JobRecord): Promise<BudgetStatus | undefined> {
    const budget = job.spec.budget;
    return budget ? budgetStatus(budget, await this.spending(job)) : undefined;
  }

  /** Asks for a check of the job soon; checks of one job never overlap, and none is lost. */
  request(jobId: string, hasBudget?: boolean): void {
    if (hasBudget !== undefined) this.budgeted.set(jobId, hasBudget);
    if (this.budgeted.get(jobId) === false) return;
    if (this.checking.has(jobId)) {
      this.again.add(jobId);
      return;
    }
    const run = this.check(jobId)
      .catch((e) => this.deps.log(`budget check of job ${jobId} failed: ${(e as Error).message}`))
      .finally(() => {
        this.checking.delete(jobId);
        if (this.again.delete(jobId)) this.request(jobId);
      });
    this.checking.set(jobId, run);
  }

  /** Checks every running job that has a budget (wall time moves without usage). */
  async checkAll(): Promise<void> {
    const all = await this.deps.store.listJobs();
    for (const j of all) this.budgeted.set(j.id, j.spec.budget !== undefined);
    for (const j of all) if (j.spec.budget && j.status === 'running') this.request(j.id);
    await this.settled();
  }

  /** Waits for the checks in flight (tests and shutdown). */
  async settled(): Promise<void> {
    while (this.checking.size > 0) await Promise.all([...this.checking.values()]);
  }

  /** The job's budget changed: the next request reads it again. */
  forget(jobId: string): void {
    this.budgeted.delete(jobId);
  }

  /** Budget alerts that hold now, for the alert engine. */
  findings(): Finding[] {
    return [...this.alerts.values()];
  }

  private async check(jobId: string): Promise<void> {
    const job = await this.deps.store.getJob(jobId);
    const budget = job?.spec.budget;
    if (job) this.budgeted.set(jobId, budget !== undefined);
    if (!job || !budget) {
      this.alerts.delete(jobId);
      return;
    }
    const status = budgetStatus(budget, await this.spending(job));
    const crossed = Object.entries(crossedFractions(budget, status));
    if (crossed.length > 0) {
      const parts = crossed.map(([k, f]) => `${k} at ${Math.round(f * 100)}%`);
      this.alerts.set(jobId, { rule: 'budget', subject: jobId, message: `budget ${parts.join(', ')}` });
    } else this.alerts.delete(jobId);
    if (status.state !== 'exceeded' || job.status !== 'running') return;
    const next = budget.onExceed === 'stop' ? 'cancelled' : 'paused';
    await this.deps.setStatus(jobId, next);
    this.deps.log(`job ${jobId} ${next}: ${status.reason}`);
  }
}
