/** A line of LineChart.svelte: values aligned with the chart's x values. */
export interface Series {
  label: string;
  values: (number | null)[];
  /** A CSS variable of the theme, such as --accent. */
  color: string;
  format: (v: number) => string;
}
