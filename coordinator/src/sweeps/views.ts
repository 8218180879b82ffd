/**
 * Sweep and trial views as GET /api/sweeps returns them: a trial's curve and best version come
 * from its job's versions, so nothing is stored twice.
 */
import {
  type CurvePoint,
  METRIC_GOAL,
  type SweepSpec,
  type SweepView,
  type TrialStatus,
  type TrialView,
} from '@gridtab/shared';
import type { JobRecord, Store, VersionRecord } from '../storage/store.ts';
import type { SweepRecord, TrialRecord } from '../storage/sweep-records.ts';

/** The round an ASHA trial waits at before its next rung decision, or null past the last rung. */
export function holdRound(spec: SweepSpec, trial: TrialRecord): number | null {
  return spec.method.name === 'asha' ? (spec.method.rungs[trial.rung] ?? null) : null;
}

/** A running trial whose job is paused at its rung round: it waits for the rung decision. */
export function isWaiting(spec: SweepSpec, trial: TrialRecord, job: JobRecord | null): boolean {
  return trial.status === 'running' && job?.status === 'paused' && job.round - 1 === holdRound(spec, trial);
}

export function curveOf(versions: VersionRecord[]): CurvePoint[] {
  let samples = 0;
  return versions
    .filter((v) => v.round > 0)
    .map((v) => {
      samples += v.numSamples;
      return { round: v.round, ...v.metrics, samples };
    });
}

export function bestOf(versions: VersionRecord[], spec: SweepSpec): TrialView['best'] {
  const sign = METRIC_GOAL[spec.metric] === 'max' ? 1 : -1;
  let best: TrialView['best'] = null;
  for (const v of versions) {
    const value = v.metrics[spec.metric] ?? null;
    if (v.round === 0 || value === null || !Number.isFinite(value)) continue;
    if (!best || sign * value > sign * best.value) best = { versionId: v.id, round: v.round, value };
  }
  return best;
}

export async function trialView(store: Store, spec: SweepSpec, t: TrialRecord): Promise<TrialView> {
  const job = t.jobId ? await store.getJob(t.jobId) : null;
  const versions = t.jobId ? await store.listVersions(t.jobId) : [];
  const curve = curveOf(versions);
  return {
    id: t.id,
    index: t.index,
    params: t.params,
    status: isWaiting(spec, t, job) ? 'waiting' : t.status,
    jobId: t.jobId,
    rung: t.rung,
    error: t.error,
    curve,
    best: bestOf(versions, spec),
    samples: curve.at(-1)?.samples ?? 0,
    repro: t.repro,
    reruns: t.reruns,
  };
}

export async function sweepView(store: Store, sweep: SweepRecord, withTrials: boolean): Promise<SweepView> {
  const trials = await Promise.all(
    (await store.sweeps.listTrials(sweep.id)).map((t) => trialView(store, sweep.spec, t)),
  );
  const sign = METRIC_GOAL[sweep.spec.metric] === 'max' ? 1 : -1;
  let best: SweepView['best'] = null;
  for (const t of trials)
    if (t.best && (!best || sign * t.best.value > sign * best.value))
      best = { trialId: t.id, versionId: t.best.versionId, value: t.best.value };
  const trialCounts: Partial<Record<TrialStatus, number>> = {};
  for (const t of trials) trialCounts[t.status] = (trialCounts[t.status] ?? 0) + 1;
  const { spec } = sweep;
  return {
    id: sweep.id,
    name: sweep.name,
    status: sweep.status,
    metric: spec.metric,
    method: spec.method,
    budget: spec.budget,
    concurrency: spec.concurrency,
    space: spec.space,
    createdAt: sweep.createdAt,
    endedAt: sweep.endedAt,
    samples: trials.reduce((n, t) => n + t.samples, 0),
    trialCounts,
    best,
    ...(withTrials ? { trials } : {}),
  };
}
