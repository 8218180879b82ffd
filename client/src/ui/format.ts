/**
 * Number formatting shared by the pages. Values shown under a data-testid stay parseable with
 * `parseFloat` (no thousands separators), because Playwright tests read them as text.
 */

/** Throughput: whole numbers from 100 up, one decimal below so slow backends do not read as 0. */
export function formatRate(samplesPerSec: number): string {
  if (!Number.isFinite(samplesPerSec) || samplesPerSec <= 0) return '0';
  return samplesPerSec >= 100 ? Math.round(samplesPerSec).toString() : samplesPerSec.toFixed(1);
}

/** Accuracy as a percentage with one decimal, or an em dash while unknown. */
export function formatPercent(fraction: number | null | undefined): string {
  return fraction == null || !Number.isFinite(fraction) ? '—' : `${(fraction * 100).toFixed(1)}%`;
}

export function formatLoss(loss: number | null | undefined): string {
  return loss == null || !Number.isFinite(loss) ? '—' : loss.toPrecision(4);
}

const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

/** Counts for people, in the reader's locale, compact from 100k so a stat tile never overflows. */
export function formatCount(n: number): string {
  return n >= 100_000 ? compact.format(n) : Math.round(n).toLocaleString();
}
