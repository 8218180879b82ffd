/** A line of LineChart.svelte: values aligned with the chart's x values. */
export interface Series {
  label: string;
  values: (number | null)[];
  /** A CSS variable of the theme, such as --accent. */
  color: string;
  format: (v: number) => string;
  /** Series with the same scale share one y axis (default: the label, an axis each). */
  scale?: string;
}
