/**
 * Hyperparameter sweeps (POST /api/sweeps): a base job spec, a search space of dotted paths into
 * it, a method (grid, random, or ASHA-style successive halving), a budget and the metric to
 * optimise. The schema checks everything a sweep can get wrong before anything starts, and
 * `sweepErrorCode` names the failure, so the console form and the API give the same answer.
 */
import { z } from 'zod';
import type { ErrorCode } from './errors.ts';
import { jobSpecSchema } from './job.ts';
import {
  applyParams,
  getPath,
  gridSize,
  MAX_GRID_POINTS,
  paramSpaceSchema,
  rangeProblem,
  type SearchSpace,
} from './sweep-space.ts';

export * from './sweep-space.ts';

export const SWEEP_METRICS = ['testAccuracy', 'testLoss', 'testR2', 'testMae', 'testRmse'] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];
/** Accuracy and R² are maximised, losses and errors minimised. testLoss fits every task. */
export const METRIC_GOAL: Record<SweepMetric, 'max' | 'min'> = {
  testAccuracy: 'max',
  testLoss: 'min',
  testR2: 'max',
  testMae: 'min',
  testRmse: 'min',
};

/** The metrics a job of this task reports, so a sweep over its jobs can rank by them. */
export const TASK_METRICS: Record<'classification' | 'regression', readonly SweepMetric[]> = {
  classification: ['testAccuracy', 'testLoss'],
  regression: ['testR2', 'testMae', 'testRmse', 'testLoss'],
};

export const MAX_SWEEP_TRIALS = 1000;

const seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1)
  .default(1);

export const sweepMethodSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('grid') }).strict(),
  z.object({ name: z.literal('random'), seed }).strict(),
  z
    .object({
      name: z.literal('asha'),
      seed,
      /** How the trials are picked: seeded random draws, or the grid in order. */
      sampler: z.enum(['random', 'grid']).default('random'),
      /**
       * What a rung counts. samples (the default): rung r is reached once a trial has trained
       * minSamples x eta^r samples, so trials with bigger units (batch x local steps) are
       * compared at equal work. rounds: the older form, rung r at round rungs[r]; chosen when
       * `rungs` is given, and by every stored sweep that has no `resource`.
       */
      resource: z.enum(['samples', 'rounds']).optional(),
      /** samples: the first rung's sample count. */
      minSamples: z.number().int().min(1).max(1e12).optional(),
      /** samples: how many rungs (minSamples x eta^0 .. eta^(rungCount-1)). */
      rungCount: z.number().int().min(1).max(10).optional(),
      /** rounds: rounds at which trials are compared; each below the base job's stopping.maxRounds. */
      rungs: z.array(z.number().int().min(1)).min(1).max(10).optional(),
      /** Reduction factor: the top 1/eta of the trials at a rung go on. */
      eta: z.number().int().min(2).max(10).default(3),
    })
    .strict(),
]);

/** The rung resource of an ASHA method; stored sweeps from before `resource` count rounds. */
export function ashaResource(m: { resource?: 'samples' | 'rounds'; rungs?: number[] }): 'samples' | 'rounds' {
  return m.resource ?? (m.rungs ? 'rounds' : 'samples');
}

/** Default number of sample rungs when `rungCount` is not given. */
export const DEFAULT_RUNG_COUNT = 2;

/** The thresholds of an ASHA method, in its resource (rounds, or samples trained). */
export function ashaRungs(m: {
  resource?: 'samples' | 'rounds';
  rungs?: number[];
  minSamples?: number;
  rungCount?: number;
  eta: number;
}): number[] {
  if (ashaResource(m) === 'rounds') return m.rungs ?? [];
  const min = m.minSamples ?? 0;
  return Array.from({ length: m.rungCount ?? DEFAULT_RUNG_COUNT }, (_, r) => min * m.eta ** r);
}
export type SweepMethod = z.output<typeof sweepMethodSchema>;

export const sweepBudgetSchema = z
  .object({
    maxTrials: z.number().int().min(1).max(MAX_SWEEP_TRIALS).optional(),
    /** Samples trained across all trials (accepted updates in committed versions). */
    maxSamples: z.number().int().min(1).max(1e12).optional(),
    /** Device seconds of training across all trials, as the usage meter counts them. */
    maxDeviceSeconds: z.number().min(1).max(1e9).optional(),
    maxTimeMs: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400_000)
      .optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give maxTrials, maxSamples, maxDeviceSeconds or maxTimeMs');

export const sweepSpecSchema = z
  .object({
    name: z.string().trim().min(1).max(80),
    base: jobSpecSchema,
    space: z.record(z.string().min(1).max(200), paramSpaceSchema),
    method: sweepMethodSchema,
    budget: sweepBudgetSchema,
    metric: z.enum(SWEEP_METRICS, { error: `metric is one of ${SWEEP_METRICS.join(', ')}` }),
    /** Trials training at once; the others wait (ASHA trials held at a rung do not count). */
    concurrency: z.number().int().min(1).max(100).default(4),
  })
  .strict()
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string, code?: ErrorCode) =>
      ctx.addIssue({ code: 'custom', path, message, params: code ? { code } : undefined });
    const paths = Object.keys(s.space);
    if (paths.length === 0) issue(['space'], 'the search space has no parameters');
    const grid = s.method.name === 'grid' || (s.method.name === 'asha' && s.method.sampler === 'grid');
    for (const path of paths) {
      const p = s.space[path];
      if (path === 'name' || getPath(s.base, path) === undefined) {
        issue(
          ['space', path],
          path === 'name'
            ? 'trials are named by the sweep'
            : `the job spec has no ${path} (give it a value in base first)`,
          'UNKNOWN_PARAMETER',
        );
        continue;
      }
      const problem = rangeProblem(p, grid);
      if (problem) {
        issue(['space', path], problem);
        continue;
      }
      // Every value a trial can get must make a valid job spec: the choices and the range ends.
      const samples = p.type === 'choice' ? p.values : [p.min, p.max];
      for (const value of samples) {
        const r = jobSpecSchema.safeParse(applyParams(s.base, { [path]: value }));
        if (!r.success)
          issue(
            ['space', path],
            `${JSON.stringify(value)?.slice(0, 60)} does not make a valid job: ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`,
          );
      }
    }
    if (grid && paths.length > 0 && paths.every((p) => !rangeProblem(s.space[p], true))) {
      const n = gridSize(s.space);
      if (n > MAX_GRID_POINTS) issue(['space'], `the grid has ${n} points; the limit is ${MAX_GRID_POINTS}`);
    }
    if (!grid && s.budget.maxTrials === undefined)
      issue(['budget', 'maxTrials'], 'random search and random ASHA need budget.maxTrials');
    if (s.method.name === 'asha') {
      const m = s.method;
      const resource = ashaResource(m);
      if (resource === 'rounds') {
        const { rungs } = m;
        const max = s.base.stopping.maxRounds;
        if (!rungs) issue(['method', 'rungs'], 'resource rounds needs rungs (round numbers)');
        else if (rungs.some((r, i) => i > 0 && r <= rungs[i - 1]))
          issue(['method', 'rungs'], 'rungs must be strictly increasing round numbers');
        else if (rungs.at(-1)! >= max)
          issue(['method', 'rungs'], `rungs must be below base.stopping.maxRounds (${max})`);
        if (m.minSamples !== undefined || m.rungCount !== undefined)
          issue(
            ['method', 'minSamples'],
            'minSamples and rungCount are for resource samples; rounds uses rungs',
          );
      } else {
        if (m.rungs)
          issue(['method', 'rungs'], 'rungs are round numbers: give resource rounds, or minSamples');
        if (m.minSamples === undefined)
          issue(['method', 'minSamples'], 'resource samples needs minSamples (the first rung)');
        else if (ashaRungs(m).at(-1)! > 1e12)
          issue(['method', 'rungCount'], 'minSamples x eta^(rungCount-1) is above 1e12 samples');
      }
    }
  });

export type SweepSpecInput = z.input<typeof sweepSpecSchema>;
export type SweepSpec = z.output<typeof sweepSpecSchema>;

/** The error code for a refused sweep: the first issue's own code, else the part it is in. */
export function sweepErrorCode(issues: readonly z.core.$ZodIssue[]): ErrorCode {
  const first = issues[0] as (z.core.$ZodIssue & { params?: { code?: ErrorCode } }) | undefined;
  if (first?.params?.code) return first.params.code;
  const byPart: Record<string, ErrorCode> = {
    space: 'INVALID_SEARCH_SPACE',
    budget: 'INVALID_BUDGET',
    metric: 'UNKNOWN_METRIC',
  };
  return byPart[String(first?.path[0])] ?? 'BAD_REQUEST';
}

/** How many trials a sweep runs (before the samples and time budgets cut it short). */
export function trialCount(s: SweepSpec): number {
  const grid = s.method.name === 'grid' || (s.method.name === 'asha' && s.method.sampler === 'grid');
  const cap = s.budget.maxTrials ?? MAX_SWEEP_TRIALS;
  return grid ? Math.min(gridSize(s.space as SearchSpace), cap) : cap;
}

export const SWEEP_STATUSES = ['running', 'completed', 'cancelled'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];
/**
 * pending: not started; running: its job trains (or waits at an ASHA rung: `waiting`);
 * completed: ran to its last round; stopped: cut at a rung or by the budget; failed: could not
 * build or diverged; cancelled: the sweep was cancelled.
 */
export const TRIAL_STATUSES = [
  'pending',
  'running',
  'waiting',
  'completed',
  'stopped',
  'failed',
  'cancelled',
] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

/** What a trial needs to be run again and give the same result. */
export interface TrialRepro {
  seed: number;
  datasetId: string;
  shardHashes: string[];
  testHash: string;
  /** sha256 of the trial's round-0 weights (TF.js's initialisers are not seeded). */
  initialWeightsHash: string;
  /** The full job spec the trial ran, model topology included. */
  jobSpec: unknown;
  /** git commit of the coordinator, else its package version. */
  codeVersion: string;
}

export interface CurvePoint {
  round: number;
  testAccuracy: number | null;
  testLoss: number | null;
  testR2?: number | null;
  testMae?: number | null;
  testRmse?: number | null;
  /** Samples trained by the trial up to and including this round. */
  samples: number;
}

export interface TrialView {
  id: string;
  index: number;
  params: Record<string, unknown>;
  status: TrialStatus;
  jobId: string | null;
  /** ASHA rungs this trial has passed. */
  rung: number;
  error: string | null;
  curve: CurvePoint[];
  best: { versionId: string; round: number; value: number } | null;
  samples: number;
  /** Training time its accepted updates took on contributors' devices (usage meter); null unmetered. */
  deviceSeconds: number | null;
  repro: TrialRepro | null;
  /** Jobs that re-ran this trial. */
  reruns: string[];
}

export interface SweepView {
  id: string;
  name: string;
  status: SweepStatus;
  metric: SweepMetric;
  method: SweepMethod;
  budget: z.output<typeof sweepBudgetSchema>;
  concurrency: number;
  space: SearchSpace;
  createdAt: string;
  endedAt: string | null;
  samples: number;
  /** Device seconds of all trials; null when the coordinator does not meter usage. */
  deviceSeconds: number | null;
  trialCounts: Partial<Record<TrialStatus, number>>;
  best: { trialId: string; versionId: string; value: number } | null;
  /** Only in GET /api/sweeps/:id. */
  trials?: TrialView[];
}
