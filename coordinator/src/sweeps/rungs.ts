/**
 * Where a trial stands against its ASHA rungs. A rung is a threshold in the sweep's resource:
 * samples trained (the default, so trials whose units differ in batch size or local steps are
 * compared at equal work) or rounds (the older form, kept for stored sweeps). A trial's rung
 * version is its first version at or past the threshold: its metric is what the rung compares,
 * and the trial is held (its job paused) right after committing it. Pure: everything is read
 * from the trial's versions, so a restart finds the same answers.
 */
import { ashaResource, ashaRungs, type SweepSpec } from '@gridtab/shared';
import type { JobRecord, VersionRecord } from '../storage/store.ts';
import type { TrialRecord } from '../storage/sweep-records.ts';

/** One trained version of a trial with the samples trained up to and including it. */
export interface Progress {
  version: VersionRecord;
  round: number;
  samples: number;
}

/** A trial's versions past round 0, with cumulative samples. */
export function progressOf(versions: VersionRecord[]): Progress[] {
  let samples = 0;
  return versions
    .filter((v) => v.round > 0)
    .sort((a, b) => a.round - b.round)
    .map((version) => {
      samples += version.numSamples;
      return { version, round: version.round, samples };
    });
}

/** The rung thresholds and what they count; none for sweeps that are not ASHA. */
export function rungPlan(spec: SweepSpec): { resource: 'samples' | 'rounds'; thresholds: number[] } | null {
  return spec.method.name === 'asha'
    ? { resource: ashaResource(spec.method), thresholds: ashaRungs(spec.method) }
    : null;
}

/** Where a commit leaves a job, in the plan's resource. */
export function position(resource: 'samples' | 'rounds', at: { round: number; samples: number }): number {
  return resource === 'samples' ? at.samples : at.round;
}

/** Index in `progress` of the trial's version for rung `rung`, or -1 if not reached (or no rung). */
export function rungIndex(spec: SweepSpec, progress: Progress[], rung: number): number {
  const plan = rungPlan(spec);
  const threshold = plan?.thresholds[rung];
  if (!plan || threshold === undefined) return -1;
  return progress.findIndex((p) => position(plan.resource, p) >= threshold);
}

/** The version a rung compares the trial at, or undefined if it has not got there. */
export function rungVersion(spec: SweepSpec, progress: Progress[], rung: number): VersionRecord | undefined {
  return progress[rungIndex(spec, progress, rung)]?.version;
}

/** The threshold an ASHA trial is held at next, or null past the last rung (or not ASHA). */
export function holdThreshold(spec: SweepSpec, trial: TrialRecord): number | null {
  return rungPlan(spec)?.thresholds[trial.rung] ?? null;
}

/** Its last version is the one rung `rung` compares: the job stopped right there. */
function stoppedAt(spec: SweepSpec, progress: Progress[], rung: number): boolean {
  const i = rungIndex(spec, progress, rung);
  return i >= 0 && i === progress.length - 1;
}

/** A running trial whose job is paused at its rung version: it waits for the rung decision. */
export function isWaiting(
  spec: SweepSpec,
  trial: TrialRecord,
  job: JobRecord | null,
  progress: Progress[],
): boolean {
  return trial.status === 'running' && job?.status === 'paused' && stoppedAt(spec, progress, trial.rung);
}

/**
 * A promoted trial whose job is still paused where the previous rung held it: it resumes. A job
 * paused anywhere else was paused by an admin and stays paused.
 */
export function shouldResume(
  spec: SweepSpec,
  trial: TrialRecord,
  job: JobRecord | null,
  progress: Progress[],
): boolean {
  return (
    trial.status === 'running' &&
    job?.status === 'paused' &&
    trial.rung > 0 &&
    stoppedAt(spec, progress, trial.rung - 1) &&
    !stoppedAt(spec, progress, trial.rung)
  );
}
