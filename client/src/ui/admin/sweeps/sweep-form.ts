/**
 * The Sweeps page's form: a sweep as JSON, checked with the coordinator's own schema
 * (sweepSpecSchema) before it is sent, so the form refuses what the API would, with the same
 * error code.
 */
import {
  type DatasetVersionView,
  formatDatasetRef,
  MODEL_PRESETS,
  type SweepSpecInput,
  sweepErrorCode,
  sweepSpecSchema,
} from '@gridtab/shared';
import { presetsFor } from '../model-presets.ts';

/** A starting point: learning rate x batch size on the MLP preset, ASHA over 8 trials. */
export const EXAMPLE_SWEEP = {
  name: 'lr x batch',
  base: {
    name: 'sweep base',
    model: 'fashion-mlp',
    dataset: 'fashion-mnist',
    hyperparameters: { batchSize: 64, localSteps: 50, learningRate: 0.001, optimizer: 'adam' },
    rounds: { unitsPerRound: 3 },
    stopping: { maxRounds: 8 },
  },
  space: {
    'hyperparameters.learningRate': { type: 'log', min: 0.0003, max: 0.01, count: 4 },
    'hyperparameters.batchSize': { type: 'choice', values: [32, 64] },
  },
  // Rungs in samples trained (19,200 and 38,400): batch 32 is compared at its round 4, batch 64
  // at its round 2, the same work.
  method: { name: 'asha', sampler: 'grid', minSamples: 19_200, rungCount: 2, eta: 2 },
  budget: { maxTrials: 8 },
  metric: 'testAccuracy',
  concurrency: 4,
};

export type FormResult = { ok: true; spec: SweepSpecInput } | { ok: false; message: string };

/** Parses the JSON text; `base.model` may name a preset (fashion-mlp, fashion-cnn). */
export function toSweepSpec(text: string): FormResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `BAD_REQUEST: not JSON (${(e as Error).message})` };
  }
  const base = (raw as { base?: { model?: unknown } })?.base;
  if (base && typeof base.model === 'string' && Object.hasOwn(MODEL_PRESETS, base.model))
    base.model = MODEL_PRESETS[base.model as keyof typeof MODEL_PRESETS];
  const r = sweepSpecSchema.safeParse(raw);
  if (r.success) return { ok: true, spec: raw as SweepSpecInput };
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  return { ok: false, message: `${sweepErrorCode(r.error.issues)}: ${issues.join('; ')}` };
}

/**
 * Points the sweep in `text` at a dataset version: base.dataset becomes `name@version`, the
 * model the version's first fitting preset (a Fashion preset name where it fits, else the
 * generated topology), and the metric: the test loss for regression (the sweep schema offers
 * testAccuracy and testLoss only, so not R² yet), accuracy for classification; regression also
 * gets a loss. Text that is not a JSON object is returned as it was.
 */
export function withDataset(
  text: string,
  v: Pick<DatasetVersionView, 'name' | 'version' | 'schema'>,
): string {
  let raw: { base?: Record<string, unknown>; metric?: string };
  try {
    raw = JSON.parse(text);
  } catch {
    return text;
  }
  if (!raw || typeof raw !== 'object') return text;
  const [preset] = presetsFor(v.schema);
  const regression = v.schema.task.kind === 'regression';
  const base = { ...(raw.base ?? {}) };
  base.dataset = formatDatasetRef(v.name, v.version);
  base.model = Object.hasOwn(MODEL_PRESETS, preset.id) ? preset.id : preset.model;
  const hp = { ...((base.hyperparameters as Record<string, unknown>) ?? {}) };
  if (regression) hp.loss = hp.loss ?? 'mse';
  else delete hp.loss;
  base.hyperparameters = hp;
  const stopping = { ...((base.stopping as Record<string, unknown>) ?? {}) };
  delete stopping[regression ? 'targetAccuracy' : 'targetR2'];
  base.stopping = stopping;
  return JSON.stringify({ ...raw, base, metric: regression ? 'testLoss' : 'testAccuracy' }, null, 2);
}
