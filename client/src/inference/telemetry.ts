/**
 * What the SDK tells the coordinator about a version in use (unless the app turns it off):
 * predict latency, errors, how often each class was predicted and the mean and spread of the
 * inputs, enough to notice drift or a bad canary. Accumulated locally, sent every few seconds.
 */
import type { InferenceReport } from '@gridtab/shared';

const MAX_LATENCIES = 1000;
/**
 * Input statistics come from one prediction in this many: a sample is enough to see drift, and
 * summing every input value was a measurable share of a wasm predict (about 5 of 50 us).
 */
const INPUT_SAMPLE_EVERY = 8;

export class TelemetryBuffer {
  private predictions = 0;
  private errors = 0;
  private latencies: number[] = [];
  private classCounts: number[] = [];
  private n = 0;
  private sum = 0;
  private sumSq = 0;
  private seen = 0;

  /** Whether this prediction's input should be added to the statistics. */
  sampleInput(): boolean {
    return this.seen++ % INPUT_SAMPLE_EVERY === 0;
  }

  recordPrediction(ms: number, classes: number[]): void {
    this.predictions += classes.length || 1;
    if (this.latencies.length < MAX_LATENCIES) this.latencies.push(ms);
    for (const c of classes) this.classCounts[c] = (this.classCounts[c] ?? 0) + 1;
  }

  recordInput(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      // NaN is a missing value (imputed by the model's normalization), not an input to summarize.
      if (Number.isNaN(v)) continue;
      this.sum += v;
      this.sumSq += v * v;
      this.n++;
    }
  }

  recordError(): void {
    this.errors++;
  }

  /** The report since the last take, or null when nothing happened. */
  take(name: string, versionId: string, backend: string): InferenceReport | null {
    if (this.predictions === 0 && this.errors === 0) return null;
    const mean = this.n ? this.sum / this.n : null;
    const report: InferenceReport = {
      name,
      versionId,
      backend,
      predictions: this.predictions,
      errors: this.errors,
      latenciesMs: this.latencies,
      classCounts: Array.from(this.classCounts, (c) => c ?? 0),
      inputMean: mean,
      inputStd: mean === null ? null : Math.sqrt(Math.max(0, this.sumSq / this.n - mean * mean)),
    };
    this.predictions = 0;
    this.errors = 0;
    this.latencies = [];
    this.classCounts = [];
    this.n = this.sum = this.sumSq = 0;
    return report;
  }
}
