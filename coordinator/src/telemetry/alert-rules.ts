/**
 * The alert rules, each a pure function from plain inputs (gathered by alert-inputs.ts) and
 * thresholds to findings, so every rule is tested with data and no coordinator. A finding is
 * keyed by rule and subject; the engine (alerts.ts) turns findings into firing and resolving.
 */
import type { AlertRule } from '@gridtab/shared';

export interface Finding {
  rule: AlertRule;
  subject: string;
  message: string;
}

export interface AlertThresholds {
  /** Accuracy after a promotion may fall this far (fraction, 0.02 = 2 points) below the previous target. */
  accuracyDrop: number;
  /** Total-variation distance between the predicted-class mix and the training data's. */
  driftClassDistance: number;
  /** Input mean shift, in training standard deviations; or the std off by this ratio. */
  driftInputShift: number;
  /** Predictions a version needs before drift is judged. */
  driftMinPredictions: number;
  /** A contributor's refused share of its recent updates. */
  rejectionRate: number;
  rejectionMinUpdates: number;
  rejectionWindowMs: number;
  /** A running job with no accepted update and no new version for this long. */
  noProgressMs: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  accuracyDrop: 0.02,
  driftClassDistance: 0.3,
  driftInputShift: 0.5,
  driftMinPredictions: 100,
  rejectionRate: 0.5,
  rejectionMinUpdates: 5,
  rejectionWindowMs: 10 * 60_000,
  noProgressMs: 10 * 60_000,
};

/** Environment variables for the thresholds (GRIDTAB_ALERT_*), for main.ts's --help too. */
export const ALERT_ENV: [string, keyof AlertThresholds, string][] = [
  [
    'GRIDTAB_ALERT_ACCURACY_DROP',
    'accuracyDrop',
    'accuracy fall after a promotion that alerts (default 0.02)',
  ],
  [
    'GRIDTAB_ALERT_DRIFT_CLASS',
    'driftClassDistance',
    'class-mix distance that alerts as drift (default 0.3)',
  ],
  [
    'GRIDTAB_ALERT_DRIFT_INPUT',
    'driftInputShift',
    'input mean shift in training stds that alerts (default 0.5)',
  ],
  ['GRIDTAB_ALERT_REJECTION_RATE', 'rejectionRate', "share of a contributor's updates refused (default 0.5)"],
  [
    'GRIDTAB_ALERT_NO_PROGRESS_MS',
    'noProgressMs',
    'ms a running job may go without progress (default 600000)',
  ],
];

export function alertThresholdsFromEnv(env: NodeJS.ProcessEnv): AlertThresholds {
  const t = { ...DEFAULT_ALERT_THRESHOLDS };
  for (const [name, key] of ALERT_ENV) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got '${raw}'`);
    t[key] = n;
  }
  return t;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export interface PromotionInput {
  model: string;
  alias: string;
  current: { versionId: string; testAccuracy: number | null };
  /** The target before the last promotion. */
  previous: { versionId: string; testAccuracy: number | null };
  /** The job's newest version after the promoted one, if any. */
  later: { versionId: string; testAccuracy: number | null } | null;
}

export function accuracyAfterPromotion(inputs: PromotionInput[], t: AlertThresholds): Finding[] {
  const out: Finding[] = [];
  for (const p of inputs) {
    const before = p.previous.testAccuracy;
    if (before === null) continue;
    for (const v of [p.current, p.later]) {
      if (v?.testAccuracy == null || before - v.testAccuracy <= t.accuracyDrop) continue;
      out.push({
        rule: 'accuracy-after-promotion',
        subject: `${p.model}/${p.alias}`,
        message: `${v.versionId}${v === p.later ? ` (after the promoted ${p.current.versionId})` : ''} has test accuracy ${pct(v.testAccuracy)}, ${((before - v.testAccuracy) * 100).toFixed(1)} points below ${p.previous.versionId} (${pct(before)}), which ${p.alias} pointed at before`,
      });
      break;
    }
  }
  return out;
}

export interface DriftReference {
  /** Share of each class in the training data's reference set. */
  classMix: number[];
  inputMean: number;
  inputStd: number;
}

export interface DriftInput {
  model: string;
  versionId: string;
  predictions: number;
  classCounts: number[];
  input: { mean: number | null; std: number | null };
  reference: DriftReference | null;
}

export function drift(inputs: DriftInput[], t: AlertThresholds): Finding[] {
  const out: Finding[] = [];
  for (const d of inputs) {
    const ref = d.reference;
    if (!ref || d.predictions < t.driftMinPredictions) continue;
    const reasons: string[] = [];
    const counted = d.classCounts.reduce((a, b) => a + b, 0);
    if (counted > 0) {
      const n = Math.max(ref.classMix.length, d.classCounts.length);
      let tv = 0;
      for (let i = 0; i < n; i++) tv += Math.abs((d.classCounts[i] ?? 0) / counted - (ref.classMix[i] ?? 0));
      tv /= 2;
      if (tv > t.driftClassDistance)
        reasons.push(`predicted classes are ${tv.toFixed(2)} away from the training mix (total variation)`);
    }
    const { mean, std } = d.input;
    if (mean !== null && ref.inputStd > 0) {
      const shift = Math.abs(mean - ref.inputMean) / ref.inputStd;
      if (shift > t.driftInputShift)
        reasons.push(
          `input mean ${mean.toFixed(3)} is ${shift.toFixed(2)} training stds from ${ref.inputMean.toFixed(3)}`,
        );
    }
    if (std !== null && ref.inputStd > 0) {
      const ratio = std / ref.inputStd;
      if (ratio > 1 + t.driftInputShift || ratio < 1 / (1 + t.driftInputShift))
        reasons.push(`input spread ${std.toFixed(3)} against ${ref.inputStd.toFixed(3)} in training`);
    }
    if (reasons.length)
      out.push({ rule: 'drift', subject: `${d.model}/${d.versionId}`, message: reasons.join('; ') });
  }
  return out;
}

export function rejectionRate(
  rates: { contributorId: string; total: number; rejected: number }[],
  t: AlertThresholds,
): Finding[] {
  return rates
    .filter((r) => r.total >= t.rejectionMinUpdates && r.rejected / r.total > t.rejectionRate)
    .map((r) => ({
      rule: 'rejection-rate' as const,
      subject: r.contributorId,
      message: `${r.rejected} of its last ${r.total} updates were refused (${pct(r.rejected / r.total)})`,
    }));
}

export interface JobProgressInput {
  jobId: string;
  name: string;
  running: boolean;
  /** Epoch ms of the last accepted update, new version, or start of running. */
  lastProgressAt: number;
}

export function noProgress(jobs: JobProgressInput[], now: number, t: AlertThresholds): Finding[] {
  return jobs
    .filter((j) => j.running && now - j.lastProgressAt > t.noProgressMs)
    .map((j) => ({
      rule: 'no-progress' as const,
      subject: j.jobId,
      message: `job '${j.name}' is running but nothing was accepted for ${Math.round((now - j.lastProgressAt) / 1000)} s`,
    }));
}
