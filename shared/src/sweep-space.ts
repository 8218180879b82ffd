/**
 * Search spaces of hyperparameter sweeps: the parameter kinds, reading and writing a dotted path
 * of a job spec, and the two ways to pick trials (the i-th point of the grid, or the i-th seeded
 * random draw). Pure functions: the coordinator and the console compute the same trials.
 */
import { z } from 'zod';
import { MODEL_PRESETS } from './models.ts';
import { mulberry32 } from './random.ts';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/** One parameter: a list to choose from, or a range (linear, logarithmic or integer). */
export const paramSpaceSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('choice'),
      values: z.array(z.unknown()).min(1, 'a choice needs at least one value').max(100),
    })
    .strict(),
  z
    .object({
      type: z.literal('uniform'),
      min: finite,
      max: finite,
      /** Grid spacing; a grid over a uniform range needs it. Random draws snap to it too. */
      step: finite.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('log'),
      min: finite,
      max: finite,
      /** Grid points, evenly spaced in log scale; a grid over a log range needs it. */
      count: z.number().int().min(2).max(100).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('int'),
      min: z.number().int(),
      max: z.number().int(),
      step: z.number().int().min(1).default(1),
    })
    .strict(),
]);
export type ParamSpace = z.output<typeof paramSpaceSchema>;
export type SearchSpace = Record<string, ParamSpace>;
export type TrialParams = Record<string, unknown>;

/** Grids larger than this are refused: with a trial budget far below it, use random search. */
export const MAX_GRID_POINTS = 100_000;

/** Why a parameter's range is empty or unbounded, or null when it is fine. */
export function rangeProblem(p: ParamSpace, forGrid: boolean): string | null {
  if (p.type === 'choice') return null;
  if (!(p.min < p.max)) return `min (${p.min}) must be below max (${p.max})`;
  if (p.type === 'log' && p.min <= 0) return 'a log range needs min > 0';
  if (p.type === 'uniform' && p.step !== undefined && !(p.step > 0 && p.step <= p.max - p.min))
    return `step must be positive and at most max - min`;
  if (p.type === 'int' && p.step > p.max - p.min) return 'step must be at most max - min';
  if (forGrid && p.type === 'uniform' && p.step === undefined)
    return 'a grid over a continuous range needs a step';
  if (forGrid && p.type === 'log' && p.count === undefined) return 'a grid over a log range needs a count';
  return null;
}

/** The values a grid takes for one parameter (each range must pass rangeProblem first). */
export function gridValues(p: ParamSpace): unknown[] {
  switch (p.type) {
    case 'choice':
      return p.values;
    case 'int':
    case 'uniform': {
      const step = p.step ?? 1;
      const n = Math.floor((p.max - p.min) / step + 1e-9) + 1;
      return Array.from({ length: n }, (_, i) => tidy(p.min + i * step));
    }
    case 'log': {
      const count = p.count ?? 2;
      const [a, b] = [Math.log(p.min), Math.log(p.max)];
      return Array.from({ length: count }, (_, i) => tidy(Math.exp(a + ((b - a) * i) / (count - 1))));
    }
  }
}

export function gridSize(space: SearchSpace): number {
  return Object.values(space).reduce((n, p) => n * gridValues(p).length, 1);
}

/** The i-th point of the grid; the first parameter varies slowest. */
export function gridPoint(space: SearchSpace, index: number): TrialParams {
  const out: TrialParams = {};
  let rest = index;
  const entries = Object.entries(space);
  for (let k = entries.length - 1; k >= 0; k--) {
    const [path, p] = entries[k];
    const values = gridValues(p);
    out[path] = values[rest % values.length];
    rest = Math.floor(rest / values.length);
  }
  return Object.fromEntries(entries.map(([path]) => [path, out[path]]));
}

/** The i-th random draw of a seeded sweep: the same seed and index always give the same point. */
export function randomPoint(space: SearchSpace, seed: number, index: number): TrialParams {
  const rand = mulberry32((seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0);
  const out: TrialParams = {};
  for (const [path, p] of Object.entries(space)) {
    const r = rand();
    switch (p.type) {
      case 'choice':
        out[path] = p.values[Math.floor(r * p.values.length)];
        break;
      case 'int':
        out[path] = p.min + Math.floor(r * (Math.floor((p.max - p.min) / p.step) + 1)) * p.step;
        break;
      case 'uniform': {
        const x = p.min + r * (p.max - p.min);
        out[path] = tidy(p.step ? p.min + Math.round((x - p.min) / p.step) * p.step : x);
        break;
      }
      case 'log':
        out[path] = tidy(Math.exp(Math.log(p.min) + r * (Math.log(p.max) - Math.log(p.min))));
        break;
    }
  }
  return out;
}

/** Six significant digits: enough for a hyperparameter, short enough to read in a table. */
function tidy(x: number): number {
  return Number(x.toPrecision(6));
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The value at a dotted path (array indices as numbers), or undefined where the path has none. */
export function getPath(obj: unknown, path: string): unknown {
  let at: unknown = obj;
  for (const key of path.split('.')) {
    if (UNSAFE_KEYS.has(key) || at === null || typeof at !== 'object' || !Object.hasOwn(at, key))
      return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * A copy of `spec` with each parameter written at its path. A string at `model` names a preset
 * (fashion-mlp, fashion-cnn), so a sweep over models reads well in tables and charts.
 */
export function applyParams<T>(spec: T, params: TrialParams): T {
  const out = structuredClone(spec) as Record<string, unknown>;
  for (const [path, raw] of Object.entries(params)) {
    const value = path === 'model' && typeof raw === 'string' ? resolvePreset(raw) : raw;
    const keys = path.split('.');
    let at = out;
    for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[keys.at(-1)!] = structuredClone(value);
  }
  return out as T;
}

function resolvePreset(name: string): unknown {
  return Object.hasOwn(MODEL_PRESETS, name) ? MODEL_PRESETS[name as keyof typeof MODEL_PRESETS] : name;
}
