/**
 * A bounded window of recent samples with quantiles, for the console's "now" figures (the
 * Prometheus histograms keep the long view). Sorting a few thousand numbers once a second is
 * cheaper than keeping a sketch.
 */
export class SampleWindow {
  private values: number[] = [];
  private total = 0;

  constructor(private readonly capacity = 4096) {}

  add(v: number): void {
    this.total++;
    if (this.values.length >= this.capacity) this.values.shift();
    this.values.push(v);
  }

  /** Samples added since the window was created or last drained. */
  get count(): number {
    return this.total;
  }

  get last(): number | null {
    return this.values.at(-1) ?? null;
  }

  quantile(q: number): number | null {
    if (this.values.length === 0) return null;
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }

  /** Empties the window (for per-period figures). */
  drain(): void {
    this.values = [];
    this.total = 0;
  }
}
