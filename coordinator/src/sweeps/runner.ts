/**
 * Runs hyperparameter sweeps. Each trial is a job created through createJob (the same build
 * checks as POST /api/jobs). The runner is level-triggered: `reconcile` reads a sweep's trials
 * and their jobs and makes them agree (a finished job finishes its trial, a stopped trial
 * cancels its job, free slots start pending trials, an ASHA rung whose trials have all arrived
 * is decided), so it runs after every version of a trial, on a timer, and at start-up, and a
 * restart continues a sweep where the store left it.
 *
 * Sharing contributors: at most `concurrency` trials of a sweep train at once (trials waiting
 * at a rung do not count); among running jobs the scheduler hands the next unit to the job with
 * the fewest units in flight, so the running trials get equal shares of the contributors, and a
 * stopped trial's contributors go to the survivors with their next request.
 */
import { randomUUID } from 'node:crypto';
import {
  applyParams,
  GridTabError,
  gridPoint,
  type JobSpec,
  jobSpecSchema,
  randomPoint,
  type SweepSpec,
  TASK_METRICS,
  trialCount,
} from '@gridtab/shared';
import type { Clock } from '../clock.ts';
import { resolveDataset } from '../datasets/data-spec.ts';
import type { DatasetRegistry } from '../datasets/registry.ts';
import type { ModelBuilder } from '../model-build/model-builder.ts';
import { checkModel, checkSpecCost, createJob } from '../scheduler/jobs.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { JobRecord, Store } from '../storage/store.ts';
import type { SweepRecord, TrialRecord } from '../storage/sweep-records.ts';
import { decideRung } from './asha.ts';
import {
  holdThreshold,
  isWaiting,
  type Progress,
  progressOf,
  rungPlan,
  rungVersion,
  shouldResume,
} from './rungs.ts';
import type { DeviceMsOf } from './views.ts';

export interface SweepDeps {
  store: Store;
  blobs: BlobStore;
  clock: Clock;
  scheduler: Scheduler;
  log: (msg: string) => void;
  /** Recorded in every trial: the git commit of the coordinator, else its package version. */
  codeVersion: string;
  /** Budget and storage-quota checks for each trial's job (usage/storage.ts). */
  admit?: (spec: JobSpec, initialBytes: number) => Promise<void>;
  /** Device time of a job's training (usage meter); absent: budget.maxDeviceSeconds cannot be kept. */
  deviceMs?: DeviceMsOf;
  /** Where trial specs are built (default: this thread). */
  builder?: ModelBuilder;
  /** Trials' jobs are inserted under their dataset's lock (scheduler/jobs.ts createJob). */
  datasets?: Pick<DatasetRegistry, 'holding'>;
}

/** Refusals that mean the trial's training diverged (the update blew up), not a bad tab. */
const DIVERGED = new Set(['NON_FINITE', 'NORM_TOO_LARGE']);
/** Distinct model specs built at POST time; trials past this many are checked when they start. */
const MAX_BUILD_CHECKS = 16;
const TICK_MS = 1000;

const ENDED = new Set(['completed', 'stopped', 'failed', 'cancelled']);

export class SweepRunner {
  /** jobId of a trial -> its sweep. */
  private readonly sweepOfJob = new Map<string, string>();
  /** jobId -> where the job waits for its next rung decision (ASHA): rounds or samples trained. */
  private readonly holdAt = new Map<string, { resource: 'samples' | 'rounds'; threshold: number }>();
  /** jobId -> diverged refusals since its last version. */
  private readonly refusals = new Map<string, number>();
  private readonly locks = new Map<string, Promise<void>>();
  private lastTick = 0;

  constructor(private readonly deps: SweepDeps) {}

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /** Indexes stored trials and continues every running sweep (after a start or a crash). */
  async init(): Promise<void> {
    for (const sweep of await this.deps.store.sweeps.listSweeps()) {
      for (const t of await this.deps.store.sweeps.listTrials(sweep.id)) this.index(sweep.spec, t);
      if (sweep.status === 'running') await this.reconcile(sweep.id);
    }
  }

  private index(spec: SweepSpec, t: TrialRecord): void {
    if (!t.jobId) return;
    this.sweepOfJob.set(t.jobId, t.sweepId);
    const threshold = t.status === 'running' ? holdThreshold(spec, t) : null;
    const plan = rungPlan(spec);
    if (threshold === null || !plan) this.holdAt.delete(t.jobId);
    else this.holdAt.set(t.jobId, { resource: plan.resource, threshold });
  }

  /**
   * The scheduler's holdAfter hook, asked as `round` commits with `samples` trained up to and
   * including it: the first commit at or past the threshold holds the job. Versions only grow,
   * and a promotion moves the threshold before the job resumes, so `>=` holds exactly once a rung.
   */
  holdAfter(jobId: string, round: number, samples: () => Promise<number>): boolean | Promise<boolean> {
    const hold = this.holdAt.get(jobId);
    if (!hold) return false;
    if (hold.resource === 'rounds') return round >= hold.threshold;
    return samples().then((n) => n >= hold.threshold);
  }

  /** Device milliseconds of a job's training, or null when usage is not metered. */
  deviceMsOf(): DeviceMsOf | undefined {
    return this.deps.deviceMs;
  }

  onVersionCommitted(jobId: string): void {
    const sweepId = this.sweepOfJob.get(jobId);
    if (!sweepId) return;
    this.refusals.delete(jobId);
    void this.reconcile(sweepId);
  }

  onUpdateRejected(jobId: string | undefined, code: string): void {
    const sweepId = jobId && this.sweepOfJob.get(jobId);
    if (!sweepId || !DIVERGED.has(code)) return;
    this.refusals.set(jobId, (this.refusals.get(jobId) ?? 0) + 1);
    void this.reconcile(sweepId);
  }

  /** Budgets in time, and anything an event missed. */
  tick(): void {
    const now = this.deps.clock.now();
    if (now - this.lastTick < TICK_MS) return;
    this.lastTick = now;
    void this.deps.store.sweeps.listSweeps().then((all) => {
      for (const s of all) if (s.status === 'running') void this.reconcile(s.id);
    });
  }

  /** Waits for every reconcile in progress (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.locks.size > 0) await Promise.all([...this.locks.values()]);
  }

  /** Checks what only the coordinator can check, stores the sweep and its trials, starts it. */
  async create(asked: SweepSpec): Promise<SweepRecord> {
    const { store } = this.deps;
    const dataset = await resolveDataset(store, asked.base.dataset);
    if (!dataset) throw new GridTabError('UNKNOWN_DATASET', `dataset '${asked.base.dataset}' does not exist`);
    // Every trial trains on the same version: `name` alone is pinned to its latest now.
    const spec: SweepSpec = { ...asked, base: { ...asked.base, dataset: dataset.id } };
    const task = dataset.schema.task.kind;
    if (!TASK_METRICS[task].includes(spec.metric))
      throw new GridTabError(
        'UNKNOWN_METRIC',
        `a ${task} dataset reports ${TASK_METRICS[task].join(', ')}; the sweep asks for ${spec.metric}`,
      );
    const id = `s-${randomUUID().slice(0, 8)}`;
    const createdAt = this.now();
    const trials: TrialRecord[] = [];
    const models = new Map<string, JobSpec>();
    for (let index = 0; index < trialCount(spec); index++) {
      const params = this.paramsOf(spec, index);
      const job = this.trialSpec(spec, params, index);
      // Every trial's spec is costed (cheap); only a few distinct ones are built with TF.js.
      checkSpecCost(job.model);
      const key = JSON.stringify(job.model);
      if (models.size < MAX_BUILD_CHECKS && !models.has(key)) models.set(key, job);
      trials.push({
        id: `t-${randomUUID().slice(0, 8)}`,
        sweepId: id,
        index,
        params,
        status: 'pending',
        jobId: null,
        rung: 0,
        error: null,
        repro: null,
        reruns: [],
        createdAt,
        endedAt: null,
      });
    }
    for (const job of models.values()) await checkModel(job, dataset, this.deps.builder);
    const sweep: SweepRecord = { id, name: spec.name, spec, status: 'running', createdAt, endedAt: null };
    await store.sweeps.createSweep(sweep, trials);
    this.deps.log(`sweep ${id} '${spec.name}': ${trials.length} trials, ${spec.method.name}`);
    await this.reconcile(id);
    return (await store.sweeps.getSweep(id))!;
  }

  private paramsOf(spec: SweepSpec, index: number): Record<string, unknown> {
    const m = spec.method;
    const grid = m.name === 'grid' || (m.name === 'asha' && m.sampler === 'grid');
    return grid ? gridPoint(spec.space, index) : randomPoint(spec.space, m.seed, index);
  }

  /** The trial's job spec; a combination the schema refuses makes the whole sweep a 400. */
  private trialSpec(spec: SweepSpec, params: Record<string, unknown>, index: number): JobSpec {
    const r = jobSpecSchema.safeParse({ ...applyParams(spec.base, params), name: `${spec.name} #${index}` });
    if (!r.success) {
      const i = r.error.issues[0];
      throw new GridTabError(
        'INVALID_SEARCH_SPACE',
        `trial ${index} ${JSON.stringify(params)} is not a valid job: ${i.path.join('.')}: ${i.message}`,
      );
    }
    return r.data;
  }

  async cancel(id: string): Promise<SweepRecord> {
    const sweep = await this.deps.store.sweeps.getSweep(id);
    if (!sweep) throw new GridTabError('NOT_FOUND', `sweep ${id} does not exist`);
    if (sweep.status !== 'running') throw new GridTabError('CONFLICT', `sweep ${id} is ${sweep.status}`);
    await this.locked(id, async () => {
      await this.deps.store.sweeps.setSweepStatus(id, 'cancelled', this.now());
      const trials = await this.deps.store.sweeps.listTrials(id);
      const open = trials
        .filter((t) => t.status === 'pending' || t.status === 'running')
        .map((t) => ({
          ...t,
          status: 'cancelled' as const,
          error: 'the sweep was cancelled',
          endedAt: this.now(),
        }));
      await this.deps.store.sweeps.updateTrials(open);
      for (const t of open) if (t.jobId) await this.cancelJob(t.jobId);
    });
    this.deps.log(`sweep ${id} cancelled`);
    return (await this.deps.store.sweeps.getSweep(id))!;
  }

  /** Runs a trial again as a new job from what it recorded, for as many rounds as it ran. */
  async rerun(sweepId: string, trialId: string): Promise<JobRecord> {
    const { store, scheduler } = this.deps;
    const trial = (await store.sweeps.listTrials(sweepId)).find((t) => t.id === trialId);
    if (!trial) throw new GridTabError('NOT_FOUND', `sweep ${sweepId} has no trial ${trialId}`);
    const last = trial.jobId ? (await store.listVersions(trial.jobId)).at(-1) : undefined;
    if (!trial.repro || !last || last.round === 0)
      throw new GridTabError('CONFLICT', `trial ${trialId} has no version to compare a re-run with`);
    const dataset = await store.getDataset(trial.repro.datasetId);
    if (
      !dataset ||
      dataset.testHashes.join(',') !== trial.repro.testHash ||
      JSON.stringify(dataset.shardHashes) !== JSON.stringify(trial.repro.shardHashes)
    )
      throw new GridTabError('CONFLICT', `dataset ${trial.repro.datasetId} changed since the trial ran`);
    const original = jobSpecSchema.parse(trial.repro.jobSpec);
    const spec = jobSpecSchema.parse({
      ...original,
      name: `${original.name} (re-run)`,
      stopping: { ...original.stopping, maxRounds: last.round },
    });
    const job = await createJob({ ...this.deps, registry: null }, spec, trial.repro.initialWeightsHash);
    await scheduler.openRound(job);
    await this.locked(sweepId, async () => {
      const fresh = (await store.sweeps.listTrials(sweepId)).find((t) => t.id === trialId)!;
      await store.sweeps.updateTrials([{ ...fresh, reruns: [...fresh.reruns, job.id] }]);
    });
    this.deps.log(`sweep ${sweepId}: trial ${trial.index} re-runs as job ${job.id} (${last.round} rounds)`);
    return job;
  }

  /** Runs `fn` after the sweep's previous reconcile or change, never beside it. */
  private locked(sweepId: string, fn: () => Promise<void>): Promise<void> {
    const before = this.locks.get(sweepId) ?? Promise.resolve();
    const p = before
      .then(fn)
      .catch((e) => this.deps.log(`sweep ${sweepId}: ${(e as Error).stack}`))
      .finally(() => {
        if (this.locks.get(sweepId) === p) this.locks.delete(sweepId);
      });
    this.locks.set(sweepId, p);
    return p;
  }

  reconcile(sweepId: string): Promise<void> {
    return this.locked(sweepId, () => this.reconcileNow(sweepId));
  }

  private async reconcileNow(sweepId: string): Promise<void> {
    const { store } = this.deps;
    const sweep = await store.sweeps.getSweep(sweepId);
    if (sweep?.status !== 'running') return;
    const { spec } = sweep;
    let trials = await store.sweeps.listTrials(sweepId);
    const jobs = new Map<string, JobRecord | null>();
    const progress = new Map<string, Progress[]>();
    for (const t of trials) {
      if (!t.jobId) continue;
      jobs.set(t.jobId, await store.getJob(t.jobId));
      progress.set(t.jobId, progressOf(await store.listVersions(t.jobId)));
    }
    const jobOf = (t: TrialRecord) => (t.jobId ? (jobs.get(t.jobId) ?? null) : null);
    const progressOfTrial = (t: TrialRecord) => (t.jobId ? (progress.get(t.jobId) ?? []) : []);
    const changed = new Map<string, TrialRecord>();
    const put = (t: TrialRecord) => {
      changed.set(t.id, t);
      trials = trials.map((x) => (x.id === t.id ? t : x));
    };
    const end = (t: TrialRecord, status: TrialRecord['status'], error: string | null) =>
      put({ ...t, status, error, endedAt: this.now() });

    // 1. A running trial follows its job: finished, cancelled from outside, or diverged.
    for (const t of trials) {
      if (t.status !== 'running' || !t.jobId) continue;
      const job = jobs.get(t.jobId);
      const failure = job ? await this.failure(job) : 'its job is gone';
      if (failure) end(t, 'failed', failure);
      else if (job?.status === 'completed') end(t, 'completed', null);
      else if (job?.status === 'cancelled') end(t, 'cancelled', 'its job was cancelled');
    }

    // 2. The budget: once spent, nothing starts and what runs is stopped.
    const spent = [...progress.values()].reduce((a, p) => a + (p.at(-1)?.samples ?? 0), 0);
    const { maxSamples, maxTimeMs, maxDeviceSeconds } = spec.budget;
    const elapsed = this.deps.clock.now() - Date.parse(sweep.createdAt);
    const outOfBudget =
      (maxSamples !== undefined && spent >= maxSamples) ||
      (maxTimeMs !== undefined && elapsed >= maxTimeMs) ||
      (maxDeviceSeconds !== undefined && (await this.deviceSeconds(trials)) >= maxDeviceSeconds);
    if (outOfBudget) {
      for (const t of trials) {
        if (t.status === 'pending') end(t, 'cancelled', 'the budget was spent before it started');
        if (t.status === 'running') end(t, 'stopped', 'the budget was spent');
      }
    }

    // 3. ASHA: decide each rung whose live trials have all arrived, lowest rung first.
    // Each trial is compared by its rung version: the first at or past the rung's threshold.
    const plan = rungPlan(spec);
    if (spec.method.name === 'asha' && plan) {
      const { eta } = spec.method;
      for (let i = 0; i < plan.thresholds.length; i++) {
        const live = trials.filter((t) => t.status === 'pending' || t.status === 'running');
        if (live.some((t) => t.rung < i)) break;
        const cohort = live.filter((t) => t.rung === i);
        if (cohort.length === 0) continue;
        if (!cohort.every((t) => isWaiting(spec, t, jobOf(t), progressOfTrial(t)))) break;
        // A rung version is evaluated after its commit; the decision waits for its metric
        // (onVersionCommitted runs this again when it lands).
        const version = (t: TrialRecord) => rungVersion(spec, progressOfTrial(t), i);
        if (cohort.some((t) => this.deps.scheduler.evaluating(version(t)?.id ?? ''))) break;
        const entries = cohort.map((t) => ({
          id: t.id,
          index: t.index,
          value: rungVersion(spec, progressOfTrial(t), i)?.metrics[spec.metric] ?? null,
        }));
        const { promote, stop } = decideRung(entries, eta, spec.metric);
        const at = `${plan.thresholds[i]} ${plan.resource === 'samples' ? 'samples' : 'rounds'}`;
        for (const t of cohort) {
          if (promote.includes(t.id)) put({ ...t, rung: i + 1 });
          else if (stop.includes(t.id)) end(t, 'stopped', `cut at rung ${i + 1} (${at})`);
        }
        this.deps.log(`sweep ${sweepId}: rung ${i + 1} (${at}): ${promote.length} of ${cohort.length} go on`);
      }
    }

    await store.sweeps.updateTrials([...changed.values()]);

    // 4. Jobs follow their trials: ended trials cancel their jobs, promoted trials resume (a
    // job an admin paused elsewhere stays paused).
    for (const t of trials) {
      if (!t.jobId) continue;
      this.index(spec, t);
      const job = jobs.get(t.jobId);
      if (!job || job.status === 'completed' || job.status === 'cancelled') continue;
      if (ENDED.has(t.status)) await this.cancelJob(t.jobId);
      else if (shouldResume(spec, t, job, progressOfTrial(t)))
        await this.deps.scheduler.setStatus(t.jobId, 'running');
    }

    // 5. Free slots start pending trials, in index order.
    if (!outOfBudget) {
      let active = trials.filter(
        (t) => t.status === 'running' && !isWaiting(spec, t, jobOf(t), progressOfTrial(t)),
      ).length;
      for (const t of trials) {
        if (active >= spec.concurrency) break;
        if (t.status !== 'pending') continue;
        const started = await this.start(spec, t);
        trials = trials.map((x) => (x.id === t.id ? started : x));
        if (started.status === 'running') active++;
      }
    }

    // 6. The sweep ends when no trial is left to run.
    if (trials.every((t) => t.status !== 'pending' && t.status !== 'running')) {
      await store.sweeps.setSweepStatus(sweepId, 'completed', this.now());
      this.deps.log(`sweep ${sweepId} completed`);
    }
  }

  /** Device seconds the sweep's trials have trained (0 when usage is not metered). */
  private async deviceSeconds(trials: TrialRecord[]): Promise<number> {
    const { deviceMs } = this.deps;
    if (!deviceMs) return 0;
    let ms = 0;
    for (const t of trials) if (t.jobId) ms += await deviceMs(t.jobId);
    return ms / 1000;
  }

  /** Why a running trial failed, or null: its metric is not finite, or its updates blow up. */
  private async failure(job: JobRecord): Promise<string | null> {
    const last = (await this.deps.store.listVersions(job.id)).at(-1);
    const loss = last && last.round > 0 ? last.metrics.testLoss : null;
    if (loss !== null && loss !== undefined && !Number.isFinite(loss))
      return `diverged: test loss ${loss} at round ${last!.round}`;
    const refused = this.refusals.get(job.id) ?? 0;
    if (refused >= 2 * job.spec.rounds.unitsPerRound)
      return `diverged: ${refused} updates refused as non-finite or too large since the last version`;
    return null;
  }

  /** Creates the trial's job and opens its first round; a job that cannot be made fails the trial. */
  private async start(spec: SweepSpec, t: TrialRecord): Promise<TrialRecord> {
    const { store, scheduler } = this.deps;
    let next: TrialRecord;
    try {
      const jobSpec = this.trialSpec(spec, t.params, t.index);
      // A trial is no model: only the trial a user publishes (promote) enters the registry.
      const job = await createJob({ ...this.deps, registry: null }, jobSpec);
      const dataset = (await store.getDataset(job.spec.dataset))!;
      next = {
        ...t,
        status: 'running',
        jobId: job.id,
        repro: {
          seed: jobSpec.seed,
          datasetId: dataset.id,
          shardHashes: dataset.shardHashes,
          testHash: dataset.testHashes.join(','),
          initialWeightsHash: (await store.getVersion(job.versionId!))!.hash,
          jobSpec,
          codeVersion: this.deps.codeVersion,
        },
      };
      await store.sweeps.updateTrials([next]);
      this.index(spec, next);
      await scheduler.openRound(job);
      this.deps.log(`sweep ${t.sweepId}: trial ${t.index} runs as job ${job.id} ${JSON.stringify(t.params)}`);
    } catch (e) {
      next = { ...t, status: 'failed', error: (e as Error).message, endedAt: this.now() };
      await store.sweeps.updateTrials([next]);
      this.deps.log(`sweep ${t.sweepId}: trial ${t.index} failed to start: ${(e as Error).message}`);
    }
    return next;
  }

  private async cancelJob(jobId: string): Promise<void> {
    const job = await this.deps.store.getJob(jobId);
    if (job && (job.status === 'running' || job.status === 'paused'))
      await this.deps.scheduler.setStatus(jobId, 'cancelled');
  }
}
