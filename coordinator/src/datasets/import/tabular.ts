/**
 * Column logic shared by the tabular formats (CSV, TSV, Parquet), in one parse of the file:
 * the profiler sees every row once, profiling each column (column-profile.ts) and spooling the
 * parsed cells to a temporary binary file (row-spool.ts); its plan then refuses bad data with
 * its place, and replays the spool into a VersionBuilder: numeric columns as they are,
 * categorical ones one-hot, and a label.
 *
 * Missing values under the impute policy are written as NaN (numeric) or an all-zero one-hot
 * (categorical), not as the train mean: the mean moves with any edit, and writing it would
 * change every shard holding an imputed row. Readers replace NaN by the train mean when they
 * normalize (shared/src/tf.ts normalizeInputs; the normalization says `imputation: 'mean'`).
 */
// Errors from their own module, and types alone from the package: a parse thread
// (csv-segment-worker.ts) loads this file, and the whole package took 0.2 s of its start.
import type { DatasetSchema, MissingPolicy, TaskKind } from '@gridtab/shared';
import { GridTabError } from '@gridtab/shared/errors';
import type { ImportOptions } from '../importer.ts';
import {
  type ColumnProfile as Column,
  ColumnProfile,
  type ColumnState,
  MAX_VOCABULARY,
  type Place,
  plainDecimal,
  toCell,
} from './column-profile.ts';
import { hash64Into, hashAsciiCellsInto, unitOf } from './row-hash.ts';
import { CELL_MISSING, CELL_TEXT, RowSpool } from './row-spool.ts';
import type { BuilderLabels, BuilderSetup, VersionBuilder } from './version-builder.ts';

export { type Cell, toCell } from './column-profile.ts';

/** A numeric label with at most this many distinct integers is a class label. */
const MAX_INFERRED_CLASSES = 50;

/** How a feature column turns into input values. */
type ColumnCodec =
  | { kind: 'numeric'; index: number; offset: number }
  | { kind: 'categorical'; index: number; offset: number; byText: Int32Array; byNumber: Map<number, number> };

export interface TablePlan {
  labels: BuilderLabels;
  labelColumn: string;
  featureNames: string[];
  categorical: DatasetSchema['categorical'];
  /** True when a split column says which rows are test rows. */
  fileSplit: boolean;
  /** True when missing values were left for readers to impute (the impute policy). */
  imputed: boolean;
  /** Data rows in the file (before any is dropped). */
  rows: number;
  /** Adds every spooled row, in file order, to the builder (dropping rows as the policy says). */
  replay(builder: VersionBuilder): Promise<void>;
}

/** The version builder's setup for a table: one f32 input per feature, standardized. */
export function tableSetup(
  plan: TablePlan,
  options: ImportOptions,
  progress: { bytesRead: () => number; bytesTotal: number },
): BuilderSetup {
  return {
    inputShape: [plan.featureNames.length],
    inputDtype: 'float32',
    labels: plan.labels,
    featureNames: plan.featureNames,
    categorical: plan.categorical,
    labelColumn: plan.labelColumn,
    normalize: 'features',
    fileSplit: plan.fileSplit,
    imputed: plan.imputed,
    shardSize: options.shardSize,
    expectedRows: plan.rows,
    seed: options.seed,
    testFraction: options.testFraction,
    ...progress,
  };
}

/** A profiler's state after one segment of a file, for the thread that merges the segments. */
export interface TableSnapshot {
  columns: ColumnState[];
  rows: number;
}

/** A spool of rows to replay, with where its text ids went in the merged profile (per column). */
interface Segment {
  spool: RowSpool;
  remap: Int32Array[] | null;
}

const EMPTY = new Int32Array(0);

export class TableProfiler {
  private readonly columns: ColumnProfile[];
  private readonly label: number;
  private readonly split: number;
  private readonly seed: number;
  private readonly testFraction: number;
  private readonly spool: RowSpool;
  /** Spools of later segments of the file, merged in (absorb), in file order. */
  private readonly later: Segment[] = [];
  /** UTF-8 of the row being hashed for the split, reused for every row. */
  private scratch = Buffer.alloc(4096);
  /** The split hash's two lanes, reused for every row. */
  private readonly lanes = new Uint32Array(2);

  /** `spoolFile`: where to spool the rows (default: a temporary folder of the profiler's own). */
  constructor(
    readonly header: string[],
    private readonly options: ImportOptions,
    private readonly fileName: string,
    spoolFile?: string,
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
    this.spool = new RowSpool(header.length, spoolFile);
  }

  /** The row's split: from the split column, else a seeded hash of its text. */
  private isTest(row: unknown[]): boolean {
    if (this.split >= 0) return String(row[this.split]).trim().toLowerCase() === 'test';
    const lanes = this.lanes;
    if (hashAsciiCellsInto(lanes, row, 0)) return unitOf(lanes[0], this.seed) < this.testFraction;
    // The hash is over the UTF-8 of the row's fields joined by \x1f (what earlier versions
    // hashed), written into one reused buffer instead of a joined string per row.
    let off = 0;
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      const s = typeof v === 'string' ? v : String(v ?? '');
      if (off + 1 + s.length * 3 > this.scratch.length) {
        const bigger = Buffer.alloc(Math.max(this.scratch.length * 2, off + 1 + s.length * 3));
        this.scratch.copy(bigger, 0, 0, off);
        this.scratch = bigger;
      }
      const scratch = this.scratch;
      if (i > 0) scratch[off++] = 0x1f;
      // ASCII (nearly every cell) is its own UTF-8: copied here, which beats a native
      // Buffer.write call per cell; anything else is encoded by Buffer.write.
      let j = 0;
      for (; j < s.length; j++) {
        const c = s.charCodeAt(j);
        if (c >= 0x80) break;
        scratch[off + j] = c;
      }
      off += j < s.length ? scratch.write(s, off, 'utf8') : j;
    }
    hash64Into(lanes, this.scratch, 0, off);
    return unitOf(lanes[0], this.seed) < this.testFraction;
  }

  /** One row (its 1-based row number in the file, header included): profiled and spooled. */
  observe(row: unknown[], rowNumber: number): void {
    const { columns, spool } = this;
    for (let i = 0; i < columns.length; i++) {
      const v = row[i];
      if (i === this.split) spool.set(i, CELL_MISSING, 0);
      else if (typeof v === 'string') {
        // CSV's cells are text: plain decimals skip toCell's general conversion.
        const n = plainDecimal(v);
        if (!Number.isNaN(n)) columns[i].observeNumber(n, rowNumber, spool);
        else columns[i].observeString(v, rowNumber, spool);
      } else columns[i].observe(toCell(v), rowNumber, spool);
    }
    spool.endRow(this.isTest(row));
  }

  /** The profile so far as plain data, its spooled rows written out to its file. */
  snapshot(): TableSnapshot {
    this.spool.seal();
    return { columns: this.columns.map((c) => c.state()), rows: this.spool.rows };
  }

  /**
   * Merges the profile of the segment of the file that follows what this profiler has seen
   * (its rows numbered from 1, after `rowsBefore` rows of the file, header included), whose
   * rows are spooled in `spoolFile`. The plan then reads as if one profiler had seen it all.
   */
  absorb(segment: TableSnapshot, spoolFile: string, rowsBefore: number): void {
    const remap = this.columns.map((c, i) => c.merge(segment.columns[i], rowsBefore));
    this.later.push({ spool: RowSpool.open(spoolFile, this.header.length, segment.rows), remap });
  }

  /** Closes the spools and deletes the one it made; call when done, whatever happened. */
  close(): void {
    this.spool.close();
    for (const s of this.later) s.spool.close();
  }

  private refuse(
    code: 'NON_NUMERIC' | 'NON_FINITE_VALUE' | 'MISSING_VALUE',
    col: Column,
    p: Place,
    what: string,
  ) {
    return new GridTabError(code, `${this.fileName}: row ${p.row}, column "${col.name}": ${what}`);
  }

  plan(): TablePlan {
    const { options, fileName } = this;
    const segments: Segment[] = [{ spool: this.spool, remap: null }, ...this.later];
    const rows = segments.reduce((n, s) => n + s.spool.rows, 0);
    if (rows === 0) throw new GridTabError('EMPTY_DATASET', `${fileName}: no data rows after the header`);
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
      (labelCol.integers && !labelCol.overflow && labelCol.distinct <= MAX_INFERRED_CLASSES)
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
    let classOf: { byText: Int32Array; byNumber: Map<number, number> } | null = null;
    if (task === 'classification') {
      if (labelCol.overflow) {
        throw new GridTabError(
          'BAD_REQUEST',
          `${fileName}: the label column "${labelCol.name}" has over ${MAX_VOCABULARY} distinct values; too many classes`,
        );
      }
      const names = labelCol.values();
      // Numeric labels sort as numbers (2 before 10), text labels as text.
      if (labelCol.text === 0) names.sort((a, b) => Number(a) - Number(b));
      else names.sort();
      classOf = labelCol.lookup(names);
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
    const allCodecs: ColumnCodec[] = [];
    const featureNames: string[] = [];
    const categorical: DatasetSchema['categorical'] = [];
    let imputed = false;
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
      if (col.firstMissing && policy === 'impute') imputed = true;
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
        allCodecs.push({ kind: 'numeric', index: col.index, offset });
      } else {
        if (col.overflow) {
          throw new GridTabError(
            'BAD_REQUEST',
            `${fileName}: column "${col.name}" has over ${MAX_VOCABULARY} distinct values; too many to one-hot`,
          );
        }
        const vocabulary = col.values().sort();
        if (vocabulary.length === 0) continue;
        categorical.push({ column: col.name, vocabulary });
        for (const v of vocabulary) featureNames.push(`${col.name}=${v}`);
        allCodecs.push({ kind: 'categorical', index: col.index, offset, ...col.lookup(vocabulary) });
      }
    }
    if (featureNames.length === 0)
      throw new GridTabError('EMPTY_DATASET', `${fileName}: no feature columns beside the label`);

    const labelIndex = this.label;
    const columns = this.columns.length;
    return {
      labels,
      labelColumn: labelCol.name,
      featureNames,
      categorical,
      fileSplit: this.split >= 0,
      imputed,
      rows,
      async replay(builder) {
        const x = new Float32Array(featureNames.length);
        const target = new Float32Array(1);
        for (const segment of segments) {
          await replaySegment(segment, x, target, builder);
        }
      },
    };

    /** Replays one segment's spool, its text ids read through the segment's remap. */
    async function replaySegment(
      { spool, remap }: Segment,
      x: Float32Array,
      target: Float32Array,
      builder: VersionBuilder,
    ): Promise<void> {
      const slots = (byText: Int32Array, column: number) =>
        remap ? Int32Array.from(remap[column], (id) => (id >= 0 ? byText[id] : -1)) : byText;
      // Per codec, its text ids' slots in this segment: the codecs themselves stay the same
      // objects in every segment, which keeps the loop below monomorphic.
      const codecs = allCodecs;
      const textSlots = codecs.map((c) => (c.kind === 'categorical' ? slots(c.byText, c.index) : EMPTY));
      const classText = classOf && slots(classOf.byText, labelIndex);
      for (const { count, values, kinds, stride } of spool.batches()) {
        for (let r = 0; r < count; r++) {
          const v0 = r * stride;
          const k0 = v0 * 8 + columns * 8;
          const lk = kinds[k0 + labelIndex];
          if (lk === CELL_MISSING) {
            builder.noteMissingLabel();
            continue;
          }
          x.fill(0);
          let keep = true;
          for (let ci = 0; ci < codecs.length; ci++) {
            const c = codecs[ci];
            const kind = kinds[k0 + c.index];
            const v = values[v0 + c.index];
            if (kind === CELL_MISSING) {
              if (policy === 'drop') {
                builder.noteDropped();
                keep = false;
                break;
              }
              builder.noteMissing(c.offset);
              // Numeric: NaN, imputed by readers; categorical: the all-zero one-hot.
              if (c.kind === 'numeric') x[c.offset] = Number.NaN;
              continue;
            }
            if (c.kind === 'numeric') x[c.offset] = v;
            else {
              const slot = kind === CELL_TEXT ? (v >= 0 ? textSlots[ci][v] : -1) : (c.byNumber.get(v) ?? -1);
              x[c.offset + Math.max(slot, 0)] = 1;
            }
          }
          if (!keep) continue;
          let label: number | Float32Array;
          const lv = values[v0 + labelIndex];
          if (classOf) {
            const slot =
              lk === CELL_TEXT ? (lv >= 0 ? classText![lv] : -1) : (classOf.byNumber.get(lv) ?? -1);
            label = Math.max(slot, 0);
          } else {
            target[0] = lv;
            label = target;
          }
          const pending = builder.add(x, label, kinds[k0 + columns] === 1 ? 'test' : 'train');
          if (pending) await pending;
        }
      }
    }
  }
}
