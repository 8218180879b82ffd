/**
 * Column logic shared by the tabular formats (CSV, TSV, Parquet): a first pass profiles every
 * column (numeric or text, missing values, vocabularies, the label's values) and refuses bad
 * data with its place; the plan it yields then encodes each row of the second pass into
 * feature values (numeric columns as they are, categorical ones one-hot) and a label.
 */
import { type DatasetSchema, GridTabError, type MissingPolicy, type TaskKind } from '@gridtab/shared';
import type { ImportOptions } from '../importer.ts';
import { hashString, unitInterval } from './row-hash.ts';
import type { BuilderLabels, Split, VersionBuilder } from './version-builder.ts';

/** A cell as the plan sees it: null when missing, a number (maybe infinite) or text. */
export type Cell = number | string | null;

const MISSING_TEXT = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);
const INFINITE_TEXT = new Set(['inf', '+inf', '-inf', 'infinity', '+infinity', '-infinity']);
/** More distinct texts than this in one column is free text, not a category. */
const MAX_VOCABULARY = 10_000;
/** A numeric label with at most this many distinct integers is a class label. */
const MAX_INFERRED_CLASSES = 50;

export function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isNaN(v) ? null : v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return v.toISOString();
  const s = String(v).trim();
  const lower = s.toLowerCase();
  if (MISSING_TEXT.has(lower)) return null;
  if (INFINITE_TEXT.has(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  const n = Number(s);
  return Number.isNaN(n) ? s : n;
}

interface Place {
  row: number;
  value?: string;
}

class ColumnProfile {
  numeric = 0;
  text = 0;
  missing = 0;
  firstText: Place | null = null;
  firstMissing: Place | null = null;
  firstInfinite: Place | null = null;
  integers = true;
  /** Distinct values (as text) with counts, up to MAX_VOCABULARY. */
  values = new Map<string, number>();
  overflow = false;
  trainSum = 0;
  trainN = 0;
  constructor(
    readonly name: string,
    readonly index: number,
  ) {}

  observe(c: Cell, row: number, split: Split): void {
    if (c === null) {
      this.missing++;
      this.firstMissing ??= { row };
      return;
    }
    if (typeof c === 'number') {
      if (!Number.isFinite(c)) {
        this.firstInfinite ??= { row, value: String(c) };
        return;
      }
      this.numeric++;
      if (!Number.isInteger(c)) this.integers = false;
      if (split === 'train') {
        this.trainSum += c;
        this.trainN++;
      }
    } else {
      this.text++;
      this.firstText ??= { row, value: c };
    }
    const key = String(c);
    const seen = this.values.get(key);
    if (seen !== undefined) this.values.set(key, seen + 1);
    else if (this.values.size < MAX_VOCABULARY) this.values.set(key, 1);
    else this.overflow = true;
  }

  get mostlyNumeric(): boolean {
    return this.numeric >= this.text;
  }

  mostFrequent(): string {
    let best = '';
    let n = -1;
    for (const [v, c] of this.values) if (c > n || (c === n && v < best)) [best, n] = [v, c];
    return best;
  }
}

/** How a feature column turns into input values. */
type ColumnCodec =
  | { kind: 'numeric'; index: number; offset: number; impute: number }
  | { kind: 'categorical'; index: number; offset: number; slots: Map<string, number>; impute: string };

export interface TablePlan {
  labels: BuilderLabels;
  labelColumn: string;
  featureNames: string[];
  categorical: DatasetSchema['categorical'];
  /** True when a split column says which rows are test rows. */
  fileSplit: boolean;
  /** The row's split: from the split column, else a seeded hash of its text. */
  splitOf(row: unknown[]): Split;
  /** Writes the row's features into x and returns its label, or null when the row is dropped. */
  encode(row: unknown[], x: Float32Array, builder: VersionBuilder): number | Float32Array | null;
}

export class TableProfiler {
  private readonly columns: ColumnProfile[];
  private readonly label: number;
  private readonly split: number;
  private readonly seed: number;
  private readonly testFraction: number;
  private rows = 0;

  constructor(
    readonly header: string[],
    private readonly options: ImportOptions,
    private readonly fileName: string,
  ) {
    const find = (name: string, what: string) => {
      const i = header.indexOf(name);
      if (i < 0) {
        throw new GridTabError(
          'UNKNOWN_COLUMN',
          `${fileName}: the ${what} column "${name}" is not in the header (${header.join(', ')})`,
        );
      }
      return i;
    };
    if (header.length < 2) {
      throw new GridTabError(
        'INVALID_FORMAT',
        `${fileName}: the header has ${header.length} column; need a feature and a label`,
      );
    }
    this.label = options.label ? find(options.label, 'label') : header.length - 1;
    this.split = options.splitColumn ? find(options.splitColumn, 'split') : -1;
    for (const c of options.categorical ?? []) find(c, 'categorical');
    this.columns = header.map((h, i) => new ColumnProfile(h, i));
    this.seed = options.seed ?? 1;
    this.testFraction = options.testFraction ?? 0.2;
  }

  splitOf(row: unknown[]): Split {
    if (this.split >= 0) return String(row[this.split]).trim().toLowerCase() === 'test' ? 'test' : 'train';
    const key = row.map((v, i) => (i === this.split ? '' : String(v ?? ''))).join('\x1f');
    return unitInterval(hashString(key), this.seed) < this.testFraction ? 'test' : 'train';
  }

  /** First pass: one row (its 1-based row number in the file, header included). */
  observe(row: unknown[], rowNumber: number): void {
    const split = this.splitOf(row);
    for (let i = 0; i < this.columns.length; i++) {
      if (i !== this.split) this.columns[i].observe(toCell(row[i]), rowNumber, split);
    }
    this.rows++;
  }

  private refuse(
    code: 'NON_NUMERIC' | 'NON_FINITE_VALUE' | 'MISSING_VALUE',
    col: ColumnProfile,
    p: Place,
    what: string,
  ) {
    return new GridTabError(code, `${this.fileName}: row ${p.row}, column "${col.name}": ${what}`);
  }

  plan(): TablePlan {
    const { options, fileName } = this;
    if (this.rows === 0)
      throw new GridTabError('EMPTY_DATASET', `${fileName}: no data rows after the header`);
    const policy: MissingPolicy = options.missing ?? 'refuse';
    const labelCol = this.columns[this.label];
    if (labelCol.numeric + labelCol.text === 0) {
      throw new GridTabError(
        'MISSING_LABEL',
        `${fileName}: every row lacks a value in the label column "${labelCol.name}"`,
      );
    }
    const inferred: TaskKind =
      labelCol.text > 0 ||
      (labelCol.integers && !labelCol.overflow && labelCol.values.size <= MAX_INFERRED_CLASSES)
        ? 'classification'
        : 'regression';
    const task = options.task ?? inferred;
    if (labelCol.firstInfinite)
      throw this.refuse(
        'NON_FINITE_VALUE',
        labelCol,
        labelCol.firstInfinite,
        `label ${labelCol.firstInfinite.value}`,
      );
    let labels: BuilderLabels;
    let classIndex = new Map<string, number>();
    if (task === 'classification') {
      if (labelCol.overflow) {
        throw new GridTabError(
          'BAD_REQUEST',
          `${fileName}: the label column "${labelCol.name}" has over ${MAX_VOCABULARY} distinct values; too many classes`,
        );
      }
      const names = [...labelCol.values.keys()];
      // Numeric labels sort as numbers (2 before 10), text labels as text.
      if (labelCol.text === 0) names.sort((a, b) => Number(a) - Number(b));
      else names.sort();
      classIndex = new Map(names.map((n, i) => [n, i]));
      labels = { kind: 'classification', classNames: names };
    } else {
      if (labelCol.firstText)
        throw this.refuse(
          'NON_NUMERIC',
          labelCol,
          labelCol.firstText,
          `"${labelCol.firstText.value}" is not a number (regression label)`,
        );
      labels = { kind: 'regression', targetNames: [labelCol.name] };
    }

    const forced = new Set(options.categorical ?? []);
    const codecs: ColumnCodec[] = [];
    const featureNames: string[] = [];
    const categorical: DatasetSchema['categorical'] = [];
    for (const col of this.columns) {
      if (col.index === this.label || col.index === this.split) continue;
      if (col.firstMissing && policy === 'refuse') {
        throw this.refuse(
          'MISSING_VALUE',
          col,
          col.firstMissing,
          'missing value (missing policy: refuse; choose drop or impute)',
        );
      }
      const offset = featureNames.length;
      if (!forced.has(col.name) && col.mostlyNumeric && col.numeric > 0) {
        if (col.firstText)
          throw this.refuse('NON_NUMERIC', col, col.firstText, `"${col.firstText.value}" is not a number`);
        if (col.firstInfinite)
          throw this.refuse(
            'NON_FINITE_VALUE',
            col,
            col.firstInfinite,
            `${col.firstInfinite.value} is not finite`,
          );
        featureNames.push(col.name);
        const impute = col.trainN > 0 ? col.trainSum / col.trainN : 0;
        codecs.push({ kind: 'numeric', index: col.index, offset, impute });
      } else {
        if (col.overflow) {
          throw new GridTabError(
            'BAD_REQUEST',
            `${fileName}: column "${col.name}" has over ${MAX_VOCABULARY} distinct values; too many to one-hot`,
          );
        }
        const vocabulary = [...col.values.keys()].sort();
        if (vocabulary.length === 0) continue;
        categorical.push({ column: col.name, vocabulary });
        for (const v of vocabulary) featureNames.push(`${col.name}=${v}`);
        const slots = new Map(vocabulary.map((v, i) => [v, i]));
        codecs.push({ kind: 'categorical', index: col.index, offset, slots, impute: col.mostFrequent() });
      }
    }
    if (featureNames.length === 0)
      throw new GridTabError('EMPTY_DATASET', `${fileName}: no feature columns beside the label`);

    const labelIndex = this.label;
    return {
      labels,
      labelColumn: labelCol.name,
      featureNames,
      categorical,
      fileSplit: this.split >= 0,
      splitOf: (row) => this.splitOf(row),
      encode(row, x, builder) {
        const lc = toCell(row[labelIndex]);
        if (lc === null) {
          builder.noteMissingLabel();
          return null;
        }
        x.fill(0);
        for (const c of codecs) {
          let cell = toCell(row[c.index]);
          if (cell === null) {
            if (policy === 'drop') {
              builder.noteDropped();
              return null;
            }
            builder.noteMissing(c.offset);
            cell = c.kind === 'numeric' ? c.impute : c.impute;
          }
          if (c.kind === 'numeric') x[c.offset] = cell as number;
          else x[c.offset + (c.slots.get(String(cell)) ?? 0)] = 1;
        }
        if (labels.kind === 'classification') return classIndex.get(String(lc)) ?? 0;
        return Float32Array.of(lc as number);
      },
    };
  }
}
