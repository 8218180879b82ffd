/**
 * The example's form, made from a dataset version's schema: a number field per numeric feature
 * and a select per one-hot encoded column (whose feature names are `column=value`), prefilled
 * with the training means. `toInputs` turns the form back into the model's input row, in the
 * dataset's own units (the SDK normalizes).
 */
import type { DatasetVersionView } from '@gridtab/shared';

export type Field =
  | { kind: 'number'; name: string; index: number; mean: number | null }
  | { kind: 'choice'; column: string; options: { value: string; index: number }[] };

/** Fields in input order; a one-hot column appears once, where its first value is. */
export function fieldsOf(v: Pick<DatasetVersionView, 'schema' | 'stats'> | null, inputs: number): Field[] {
  const names = v?.schema.featureNames ?? Array.from({ length: inputs }, (_, i) => `x${i}`);
  const oneHot = new Map((v?.schema.categorical ?? []).map((c) => [c.column, c.vocabulary]));
  const means = new Map((v?.stats.features ?? []).map((f) => [f.name, f.mean]));
  const fields: Field[] = [];
  const seen = new Set<string>();
  names.forEach((name, index) => {
    const eq = name.indexOf('=');
    const column = eq > 0 ? name.slice(0, eq) : null;
    if (column && oneHot.has(column)) {
      if (seen.has(column)) return;
      seen.add(column);
      const options = oneHot
        .get(column)!
        .map((value) => ({ value, index: names.indexOf(`${column}=${value}`) }))
        .filter((o) => o.index >= 0);
      fields.push({ kind: 'choice', column, options });
    } else fields.push({ kind: 'number', name, index, mean: means.get(name) ?? null });
  });
  return fields;
}

/** The input row: numbers as typed, a one-hot column as 1 at its chosen value and 0 elsewhere. */
export function toInputs(fields: Field[], values: Record<string, string>, inputs: number): Float32Array {
  const row = new Float32Array(inputs);
  for (const f of fields) {
    if (f.kind === 'number') row[f.index] = Number(values[f.name] ?? f.mean ?? 0);
    else {
      const chosen = f.options.find((o) => o.value === values[f.column]) ?? f.options[0];
      if (chosen) row[chosen.index] = 1;
    }
  }
  return row;
}
