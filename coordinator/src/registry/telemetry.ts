/**
 * Inference telemetry that SDK instances report (`inference:report`), kept per model version
 * so a canary can be compared with the version it may replace: in memory for the API (counts,
 * a window of recent latencies, per-class prediction counts, input mean and spread for drift)
 * and as Prometheus series on the coordinator's registry.
 */
import type { InferenceReport } from '@gridtab/shared';
import { Counter, Histogram, type Registry } from 'prom-client';

const LATENCY_WINDOW = 2000;
/** Distinct backend names kept per version; later ones count as 'other' (SDKs report any string). */
export const MAX_BACKENDS = 8;

export interface VersionTelemetry {
  reports: number;
  predictions: number;
  errors: number;
  latencyMs: { p50: number | null; p95: number | null; samples: number };
  classCounts: number[];
  input: { mean: number | null; std: number | null };
  backends: Record<string, number>;
}

interface Acc {
  reports: number;
  predictions: number;
  errors: number;
  latencies: number[];
  classCounts: number[];
  /** Pooled moments, weighted by predictions: sum of means, sum of (std^2 + mean^2). */
  weight: number;
  sumMean: number;
  sumSquare: number;
  backends: Record<string, number>;
}

const quantile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;

export class InferenceTelemetry {
  private readonly byVersion = new Map<string, Acc>();
  private readonly predictions: Counter<'model' | 'version'>;
  private readonly errors: Counter<'model' | 'version'>;
  private readonly latency: Histogram<'model' | 'version'>;

  constructor(registry: Registry) {
    this.predictions = new Counter({
      name: 'gridtab_inference_predictions_total',
      help: 'Predictions reported by inference SDKs, by model and version',
      labelNames: ['model', 'version'],
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'gridtab_inference_errors_total',
      help: 'Failed predictions reported by inference SDKs, by model and version',
      labelNames: ['model', 'version'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'gridtab_inference_latency_seconds',
      help: 'Predict latency reported by inference SDKs',
      labelNames: ['model', 'version'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    });
  }

  record(r: InferenceReport): void {
    const key = `${r.name}/${r.versionId}`;
    let acc = this.byVersion.get(key);
    if (!acc) {
      acc = {
        reports: 0,
        predictions: 0,
        errors: 0,
        latencies: [],
        classCounts: [],
        weight: 0,
        sumMean: 0,
        sumSquare: 0,
        // No prototype: a reported backend named like one of Object's properties is just a key.
        backends: Object.create(null),
      };
      this.byVersion.set(key, acc);
    }
    acc.reports++;
    acc.predictions += r.predictions;
    acc.errors += r.errors;
    acc.latencies.push(...r.latenciesMs);
    if (acc.latencies.length > LATENCY_WINDOW) acc.latencies.splice(0, acc.latencies.length - LATENCY_WINDOW);
    r.classCounts.forEach((n, i) => {
      acc.classCounts[i] = (acc.classCounts[i] ?? 0) + n;
    });
    for (let i = 0; i < acc.classCounts.length; i++) acc.classCounts[i] ??= 0;
    if (r.inputMean !== null && r.inputStd !== null && r.predictions > 0) {
      acc.weight += r.predictions;
      acc.sumMean += r.inputMean * r.predictions;
      acc.sumSquare += (r.inputStd ** 2 + r.inputMean ** 2) * r.predictions;
    }
    const known = Object.hasOwn(acc.backends, r.backend);
    const backend = known || Object.keys(acc.backends).length < MAX_BACKENDS ? r.backend : 'other';
    acc.backends[backend] = (acc.backends[backend] ?? 0) + r.predictions;
    const labels = { model: r.name, version: r.versionId };
    this.predictions.inc(labels, r.predictions);
    this.errors.inc(labels, r.errors);
    for (const ms of r.latenciesMs) this.latency.observe(labels, ms / 1000);
  }

  /** Every version some SDK reported on, as model name and version id. */
  reported(): { name: string; versionId: string }[] {
    return [...this.byVersion.keys()].map((key) => {
      const cut = key.indexOf('/');
      return { name: key.slice(0, cut), versionId: key.slice(cut + 1) };
    });
  }

  forVersion(name: string, versionId: string): VersionTelemetry {
    const acc = this.byVersion.get(`${name}/${versionId}`);
    if (!acc)
      return {
        reports: 0,
        predictions: 0,
        errors: 0,
        latencyMs: { p50: null, p95: null, samples: 0 },
        classCounts: [],
        input: { mean: null, std: null },
        backends: {},
      };
    const sorted = [...acc.latencies].sort((a, b) => a - b);
    const mean = acc.weight ? acc.sumMean / acc.weight : null;
    const std = mean !== null ? Math.sqrt(Math.max(0, acc.sumSquare / acc.weight - mean ** 2)) : null;
    return {
      reports: acc.reports,
      predictions: acc.predictions,
      errors: acc.errors,
      latencyMs: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), samples: sorted.length },
      classCounts: [...acc.classCounts],
      input: { mean, std },
      backends: { ...acc.backends },
    };
  }
}
