/**
 * Job specs as admins send them (POST /api/jobs) and job views as the API returns them.
 * The model spec is a TF.js layers topology (what `JSON.parse(model.toJSON())` gives); the
 * coordinator also builds it with TF.js before accepting the job, because a schema alone
 * cannot tell whether layers fit together.
 */
import { z } from 'zod';
import { type BudgetStatus, budgetSchema } from './budget.ts';
import { type CodecSpec, codecSpecSchema } from './codecs/spec.ts';
import { datasetRefSchema, REGRESSION_LOSSES, type TaskKind } from './dataset.ts';
import { strategySpecSchema } from './strategy.ts';

export { CODEC_NAMES, type CodecName, type CodecSpec, codecSpecSchema } from './codecs/spec.ts';
export {
  bufferedSpecSchema,
  dilocoSpecSchema,
  fedavgSpecSchema,
  STRATEGIES,
  type StrategyName,
  type StrategySpec,
  strategyOf,
  strategySpecSchema,
} from './strategy.ts';

/**
 * Relative L2 distance between a tab's update and the coordinator's replica that still counts as
 * agreement. Measured on the demo MLP (50 Adam steps from a trained base): wasm vs cpu 3e-6,
 * webgpu (SwiftShader) vs a wasm replica on the same loss path 1.4e-5 to 2.7e-5; cheating shows
 * from 0.07 (10% fewer steps) to 1 (a zero update). 0.01 sits hundreds of times above the first
 * and seven times below the second.
 */
export const DEFAULT_SPOT_CHECK_TOLERANCE = 0.01;

export const OPTIMIZERS = ['adam', 'sgd'] as const;

/**
 * How a round's updates are combined. `mean` is FedAvg's sample-weighted mean; the others are
 * robust to a minority of wrong or hostile updates and ignore the sample counts tabs claim.
 */
export const aggregationSpecSchema = z.discriminatedUnion('rule', [
  z.object({ rule: z.literal('mean') }).strict(),
  z
    .object({
      rule: z.literal('trimmed-mean'),
      /** Fraction of the updates dropped at each end, per coordinate. */
      trim: z.number().min(0).lt(0.5).default(0.2),
    })
    .strict(),
  z.object({ rule: z.literal('median') }).strict(),
  z
    .object({
      rule: z.literal('centered-clip'),
      /** L2 radius of the clipping; without it, the median distance of the updates to the center. */
      radius: z.number().positive().max(1e9).optional(),
      iterations: z.number().int().min(1).max(20).default(3),
    })
    .strict(),
]);
export type AggregationSpec = z.output<typeof aggregationSpecSchema>;

export const modelTopologySchema = z
  .object({
    class_name: z.enum(['Sequential', 'Model', 'Functional']),
    config: z.record(z.string(), z.unknown()),
  })
  .loose();

export type ModelTopology = z.infer<typeof modelTopologySchema>;

export const jobSpecSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    model: modelTopologySchema,
    /** `name@version`, or `name` (the latest version, resolved and recorded at creation). */
    dataset: datasetRefSchema,
    /** A name, or an object with the strategy's parameters (shared/src/strategy.ts). */
    strategy: strategySpecSchema.default({ name: 'fedavg' }),
    /** The wire format of the job's updates; every unit carries it. */
    codec: codecSpecSchema.default({ name: 'fp32' }),
    aggregation: aggregationSpecSchema.default({ rule: 'mean' }),
    hyperparameters: z
      .object({
        batchSize: z.number().int().min(1).max(4096).default(64),
        localSteps: z.number().int().min(1).max(100_000).default(40),
        learningRate: z.number().positive().max(10).default(0.002),
        optimizer: z.enum(OPTIMIZERS).default('adam'),
        /** Regression jobs: squared error or Huber (on standardized targets). Classification ignores it. */
        loss: z.enum(REGRESSION_LOSSES).default('mse'),
      })
      .strict()
      .prefault({}),
    rounds: z
      .object({
        /** Units handed out per round; each covers a distinct slice of the training shards. */
        unitsPerRound: z.number().int().min(1).max(10_000).default(6),
        /** Fraction of the round's units whose updates close the round early. */
        quorum: z.number().gt(0).max(1).default(1),
        /** The round closes at this age with whatever arrived (at least one update). */
        deadlineMs: z.number().int().min(1000).max(86_400_000).default(120_000),
        /** A unit's lease; past it the unit goes to another tab. */
        leaseMs: z.number().int().min(1000).max(3_600_000).default(60_000),
        /**
         * Once a tab's speed is known (measured on its accepted units, else reported), its lease
         * is this many times the time it should need for the unit. A reported speed, or a single
         * measured unit, may only lengthen a lease past leaseMs; from two measured units on it
         * may shorten it too, down to leaseFloorMs.
         */
        leaseMargin: z.number().min(1).max(100).default(3),
        leaseFloorMs: z.number().int().min(500).max(3_600_000).default(10_000),
        /**
         * 'speed': each unit's local steps follow its tab's measured speed (a quarter to twice
         * localSteps, against the mean of the job's recent tabs), so that a round's units end
         * together instead of every tab waiting for the slowest; the mean rule weights each
         * update by the samples it trained. 'time': each unit trains for the same time, the
         * time the job's recent tabs took for localSteps on average; a tab stops at the first
         * step past it (a quarter to twice localSteps), so a round's units end together even when
         * the tabs' speeds change from unit to unit (tabs sharing a machine's cores), which a speed
         * measured on past units cannot foresee. Absent or 'fixed': localSteps for every unit.
         */
        unitSizing: z.enum(['fixed', 'speed', 'time']).optional(),
      })
      .strict()
      .prefault({}),
    stopping: z
      .object({
        maxRounds: z.number().int().min(1).max(1_000_000).default(30),
        /** Classification: stop at this test accuracy. */
        targetAccuracy: z.number().gt(0).max(1).optional(),
        /** Regression: stop at this test R². */
        targetR2: z.number().gt(-1e6).max(1).optional(),
      })
      .strict()
      .prefault({}),
    /**
     * Spot-checks (absent: none): the coordinator recomputes a fraction of units, adaptive per
     * contributor, and compares them with what the tab sent (docs/PROTOCOL.md, "Spot-checks").
     */
    spotChecks: z
      .object({
        /** Floor of a contributor's check rate; 0.1 catches an always-lazy tab within 50 units with 99.5%. */
        minRate: z.number().min(0).max(1).default(0.1),
        /** Largest relative L2 distance between the update and the replica that still agrees. */
        tolerance: z.number().positive().max(10).default(DEFAULT_SPOT_CHECK_TOLERANCE),
      })
      .strict()
      .optional(),
    /** Limits on what the job spends (shared/src/budget.ts); absent: none. */
    budget: budgetSchema.optional(),
    /** Updates with an L2 norm above this are refused before aggregation. */
    maxUpdateNorm: z.number().positive().max(1e9).default(1e4),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
  })
  .strict();

export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type JobSpec = z.output<typeof jobSpecSchema>;

export const JOB_STATUSES = ['running', 'paused', 'completed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * A version's test-set metrics. Classification fills testAccuracy; regression fills testR2,
 * testMae and testRmse (in the targets' units); both fill testLoss (the training loss).
 */
export interface VersionMetrics {
  testAccuracy: number | null;
  testLoss: number | null;
  testR2?: number | null;
  testMae?: number | null;
  testRmse?: number | null;
}

export const METRIC_NAMES = ['testAccuracy', 'testLoss', 'testR2', 'testMae', 'testRmse'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** Whether a bigger value of the metric is better. */
export const METRIC_MAXIMIZE: Record<MetricName, boolean> = {
  testAccuracy: true,
  testLoss: false,
  testR2: true,
  testMae: false,
  testRmse: false,
};

export interface JobView {
  id: string;
  name: string;
  status: JobStatus;
  round: number;
  versionId: string | null;
  metrics: VersionMetrics;
  dataset: string;
  strategy: string;
  /** How the job's updates travel and are combined, as its spec says. */
  codec: CodecSpec;
  aggregation: AggregationSpec;
  createdAt: string;
  /** The job's stopping rule, so progress can be shown against it. */
  stopping: { maxRounds: number; targetAccuracy: number | null; targetR2?: number | null };
  /** The task of the job's dataset version. */
  task?: TaskKind;
  /** Spending against the job's budget; absent when the job declares none. */
  budget?: BudgetStatus;
}

export interface VersionView {
  id: string;
  jobId: string;
  round: number;
  hash: string;
  parentId: string | null;
  createdAt: string;
  metrics: VersionMetrics;
  numSamples: number;
  unitIds: string[];
  /** True when retention pruned its weights (the record stays); absent otherwise. */
  pruned?: boolean;
}
