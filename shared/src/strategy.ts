/**
 * Training strategies a job may name, with their parameters. A bare name (what jobs stored before
 * strategies had parameters hold, and what the console form sends) means that strategy with its
 * defaults, so `strategyOf` is the one way to read a job's strategy.
 */
import { z } from 'zod';

export const STRATEGIES = ['fedavg', 'buffered', 'diloco'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** Synchronous rounds; the next version is the base plus the aggregated deltas. */
export const fedavgSpecSchema = z.object({ name: z.literal('fedavg') }).strict();

/**
 * Asynchronous (FedBuff-like): no rounds; every `bufferSize` accepted updates make a version.
 * An update computed on a version `s` versions old is scaled by (1 + s)^-stalenessExponent
 * and refused with STALE_VERSION when s > maxStaleness.
 */
export const bufferedSpecSchema = z
  .object({
    name: z.literal('buffered'),
    bufferSize: z.number().int().min(1).max(10_000).default(4),
    maxStaleness: z.number().int().min(0).max(1000).default(4),
    stalenessExponent: z.number().min(0).max(4).default(0.5),
  })
  .strict();

/**
 * DiLoCo (Douillard et al. 2023): each unit runs the job's localSteps with AdamW in the tab;
 * the coordinator treats minus the aggregated delta as an outer gradient and takes one
 * Nesterov-momentum SGD step with it.
 */
export const dilocoSpecSchema = z
  .object({
    name: z.literal('diloco'),
    outerLearningRate: z.number().positive().max(10).default(0.7),
    outerMomentum: z.number().min(0).lt(1).default(0.9),
    /** The inner AdamW's decoupled weight decay (per step, times the learning rate). */
    weightDecay: z.number().min(0).max(1).default(0.01),
  })
  .strict();

const objectSchema = z.discriminatedUnion('name', [fedavgSpecSchema, bufferedSpecSchema, dilocoSpecSchema]);

export const strategySpecSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { name: v } : v),
  objectSchema,
);
export type StrategySpec = z.output<typeof objectSchema>;

/** The strategy of a spec, whatever form it was stored in (a name, an object, nothing). */
export function strategyOf(spec: { strategy?: unknown }): StrategySpec {
  return strategySpecSchema.parse(spec.strategy ?? 'fedavg');
}
