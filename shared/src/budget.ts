/**
 * Job budgets: limits a job spec may declare on what it spends (device time, samples, bytes
 * moved, storage held, wall time, estimated cost). The coordinator meters usage per job
 * (coordinator/src/usage/) and pauses or stops a job once any limit is reached; alerts fire at
 * the `alertAt` fractions of each limit. A refused budget answers INVALID_BUDGET.
 */
import { z } from 'zod';

/** What each limit of a budget counts; the keys are the budget's own field names. */
export const BUDGET_LIMITS = [
  'deviceHours',
  'samples',
  'bytes',
  'storageBytes',
  'wallTimeMs',
  'cost',
] as const;
export type BudgetLimit = (typeof BUDGET_LIMITS)[number];

// z.number() refuses NaN and ±Infinity in zod 4, so "finite" needs no extra check.
const limit = z.number().positive();

export const budgetSchema = z
  .object({
    /** Device-hours of training, all backends (the tabs' measured trainMs). */
    deviceHours: limit.optional(),
    /** Samples trained in accepted updates. */
    samples: limit.optional(),
    /** Bytes moved: shards and weights served, update payloads received. */
    bytes: limit.optional(),
    /** Bytes the job holds in the blob store (its versions and its kept update blobs). */
    storageBytes: limit.optional(),
    /** Time since the job was created. */
    wallTimeMs: limit.optional(),
    /** Estimated cost in the price table's currency; needs a price table (GRIDTAB_PRICES). */
    cost: limit.optional(),
    /** What happens when a limit is reached: pause (resumable after raising it) or stop (cancel). */
    onExceed: z.enum(['pause', 'stop']).default('pause'),
    /** Fractions of each limit at which an alert fires, ascending, each in (0, 1]. */
    alertAt: z.array(z.number().gt(0).max(1)).max(10).default([0.5, 0.8, 1]),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (!BUDGET_LIMITS.some((k) => b[k] !== undefined))
      ctx.addIssue({ code: 'custom', message: 'a budget needs at least one limit', path: [] });
    for (let i = 1; i < b.alertAt.length; i++)
      if (b.alertAt[i]! <= b.alertAt[i - 1]!)
        ctx.addIssue({ code: 'custom', message: 'alertAt must be strictly ascending', path: ['alertAt', i] });
  });

export type BudgetInput = z.input<typeof budgetSchema>;
export type Budget = z.output<typeof budgetSchema>;

/** A job's spending against its budget, as the job view shows it. */
export interface BudgetStatus {
  /** `exceeded` once any limit is reached (the job was paused or stopped for it). */
  state: 'ok' | 'exceeded';
  /** Why the job was paused or stopped, e.g. "samples 1024 of 1000"; null while within budget. */
  reason: string | null;
  /** Per declared limit: spent and the limit. */
  limits: Partial<Record<BudgetLimit, { spent: number; limit: number }>>;
}
