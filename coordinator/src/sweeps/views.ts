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
import type { Store, VersionRecord } from '../storage/store.ts';
import type { SweepRecord, TrialRecord } from '../storage/sweep-records.ts';
import { isWaiting, progressOf } from './rungs.ts';

/** Device milliseconds of training a job's accepted updates took (the usage meter's totals). */
export type DeviceMsOf = (jobId: string) => Promise<number>;

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

export async function trialView(
  store: Store,
  spec: SweepSpec,
  t: TrialRecord,
  deviceMs?: DeviceMsOf,
): Promise<TrialView> {
  const job = t.jobId ? await store.getJob(t.jobId) : null;
  const versions = t.jobId ? await store.listVersions(t.jobId) : [];
  const curve = curveOf(versions);
  // Work, not rounds: samples and device time are what a trial cost, whatever its unit size.
  const deviceSeconds = !deviceMs ? null : t.jobId ? (await deviceMs(t.jobId)) / 1000 : 0;
  return {
    id: t.id,
    index: t.index,
    params: t.params,
    status: isWaiting(spec, t, job, progressOf(versions)) ? 'waiting' : t.status,
    jobId: t.jobId,
    rung: t.rung,
    error: t.error,
    curve,
    best: bestOf(versions, spec),
    samples: curve.at(-1)?.samples ?? 0,
    deviceSeconds,
    repro: t.repro,
    reruns: t.reruns,
  };
}

export async function sweepView(
  store: Store,
  sweep: SweepRecord,
  withTrials: boolean,
  deviceMs?: DeviceMsOf,
): Promise<SweepView> {
  const trials = await Promise.all(
    (await store.sweeps.listTrials(sweep.id)).map((t) => trialView(store, sweep.spec, t, deviceMs)),
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
    deviceSeconds: deviceMs ? trials.reduce((n, t) => n + (t.deviceSeconds ?? 0), 0) : null,
    trialCounts,
    best,
    ...(withTrials ? { trials } : {}),
  };
}
