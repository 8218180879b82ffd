/**
 * One column's profile in a tabular import: how many values are numbers, texts or missing,
 * where the first bad one sits, and its distinct values with counts (for categories, classes
 * and the class-or-regression guess). Numbers and texts are counted in separate maps so a
 * numeric cell never becomes a string (the hot path of a large import), and each text gets a
 * small id that the row spool stores in place of the text.
 */
import { CELL_MISSING, CELL_NUMBER, CELL_TEXT, type RowSpool } from './row-spool.ts';

/** A cell as the plan sees it: null when missing, a number (maybe infinite) or text. */
export type Cell = number | string | null;

const MISSING_TEXT = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);
const INFINITE_TEXT = new Set(['inf', '+inf', '-inf', 'infinity', '+infinity', '-infinity']);
/** More distinct values than this in one column is free text, not a category. */
export const MAX_VOCABULARY = 10_000;

export function toCell(v: unknown): Cell {
  if (typeof v === 'string') {
    // Fast path: most cells are plain numbers. `+s` is 0 for blank text, so 0 takes the slow path.
    const n = +v;
    if (n !== 0 && !Number.isNaN(n)) return n;
  }
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

/** 10^k for k <= 22: every one is an exact double. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A cell's number when it is a plain decimal (`-12.50`: optional minus, digits, optional
 * fraction, 1 to 15 digits in all, not zero), else NaN: then toCell decides. m / 10^k is
 * Number(s) exactly (Clinger's fast path: m < 2^53 and 10^k are exact doubles and IEEE
 * division rounds correctly), and walking the characters once costs a third of V8's general
 * string-to-number conversion, the largest cost a numeric cell had after the parse itself.
 */
export function plainDecimal(s: string): number {
  const len = s.length;
  let i = 0;
  let negative = false;
  if (len > 0 && s.charCodeAt(0) === 45) {
    negative = true;
    i = 1;
  }
  if (i >= len || len - i > 16) return Number.NaN;
  let m = 0;
  let digits = 0;
  let point = -1;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
    } else if (c === 46 && point < 0) point = digits;
    else return Number.NaN;
  }
  // "5." and ".5" and "." go the general way; so does a zero (toCell keeps "-0" as -0).
  if (digits === 0 || digits > 15 || point === 0 || point === digits || m === 0) return Number.NaN;
  const v = point < 0 ? m : m / POW10[digits - point];
  return negative ? -v : v;
}

export interface Place {
  row: number;
  value?: string;
}

/**
 * A profile as plain data, for a thread that profiled one segment of a file to send to the one
 * that merges the segments (structured clone keeps Maps, not classes).
 */
export interface ColumnState {
  numeric: number;
  text: number;
  missing: number;
  firstText: Place | null;
  firstMissing: Place | null;
  firstInfinite: Place | null;
  integers: boolean;
  numbers: Map<number, number>;
  texts: string[];
  textCounts: number[];
  overflow: boolean;
}

/** A place moved down by `rows` (a later segment's local row numbers made the file's). */
function shifted(p: Place | null, rows: number): Place | null {
  return p && { ...p, row: p.row + rows };
}

export class ColumnProfile {
  numeric = 0;
  text = 0;
  missing = 0;
  firstText: Place | null = null;
  firstMissing: Place | null = null;
  firstInfinite: Place | null = null;
  integers = true;
  /** Distinct finite numbers with counts. */
  readonly numbers = new Map<number, number>();
  /** Distinct texts: text to id, and by id their text and count. */
  readonly textIds = new Map<string, number>();
  readonly texts: string[] = [];
  readonly textCounts: number[] = [];
  /** More than MAX_VOCABULARY distinct values (numbers and texts together). */
  overflow = false;
  /**
   * Cell text as read to its text id, for texts toCell kept as text: a category's repeats skip
   * toCell's trim, lower-casing and set lookups (a new lower-cased string each time).
   */
  private readonly rawIds = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly index: number,
  ) {}

  /** Profiles one cell and writes it to the spool. */
  observe(c: Cell, row: number, spool: RowSpool): void {
    if (c === null) this.observeMissing(row, spool);
    else if (typeof c === 'number') this.observeNumber(c, row, spool);
    else this.observeText(c, row, spool);
  }

  /** A cell as read (text): profiled as toCell makes it, and written to the spool. */
  observeString(s: string, row: number, spool: RowSpool): void {
    const id = this.rawIds.get(s);
    if (id !== undefined) {
      // Seen before as this text: the same id, and firstText is already set.
      this.text++;
      this.textCounts[id]++;
      spool.set(this.index, CELL_TEXT, id);
      return;
    }
    const c = toCell(s);
    this.observe(c, row, spool);
    if (typeof c === 'string' && this.rawIds.size < MAX_VOCABULARY) {
      const known = this.textIds.get(c);
      if (known !== undefined) this.rawIds.set(s, known);
    }
  }

  observeMissing(row: number, spool: RowSpool): void {
    this.missing++;
    this.firstMissing ??= { row };
    spool.set(this.index, CELL_MISSING, 0);
  }

  /** A number cell: kept apart from text so the hot numeric path stays monomorphic. */
  observeNumber(c: number, row: number, spool: RowSpool): void {
    spool.set(this.index, CELL_NUMBER, c);
    if (!Number.isFinite(c)) {
      this.firstInfinite ??= { row, value: String(c) };
      return;
    }
    this.numeric++;
    if (this.integers && !Number.isInteger(c)) this.integers = false;
    // Once over the limit the counts no longer matter: every use of them then refuses.
    if (this.overflow) return;
    const seen = this.numbers.get(c);
    if (seen !== undefined) this.numbers.set(c, seen + 1);
    else if (this.distinct < MAX_VOCABULARY) this.numbers.set(c, 1);
    else this.overflow = true;
  }

  observeText(c: string, row: number, spool: RowSpool): void {
    this.text++;
    this.firstText ??= { row, value: c };
    let id = this.textIds.get(c);
    if (id === undefined) {
      if (this.distinct < MAX_VOCABULARY) {
        id = this.texts.length;
        this.textIds.set(c, id);
        this.texts.push(c);
        this.textCounts.push(0);
      } else {
        this.overflow = true;
        id = -1;
      }
    }
    if (id >= 0) this.textCounts[id]++;
    spool.set(this.index, CELL_TEXT, id);
  }

  /** This profile as plain data (ColumnState). */
  state(): ColumnState {
    const { numeric, text, missing, firstText, firstMissing, firstInfinite, integers } = this;
    const { numbers, texts, textCounts, overflow } = this;
    return {
      numeric,
      text,
      missing,
      firstText,
      firstMissing,
      firstInfinite,
      integers,
      numbers,
      texts,
      textCounts,
      overflow,
    };
  }

  /**
   * Adds the profile of the rows that follow this one's (their row numbers shifted by `rows`),
   * as if this profile had observed them itself: counts add, the first bad place is the earlier,
   * distinct values join, and the vocabulary overflows exactly when the union is too large.
   * Returns where each of the other profile's text ids went among this one's (-1: past the
   * vocabulary), for reading the other segment's spool.
   */
  merge(other: ColumnState, rows: number): Int32Array {
    this.numeric += other.numeric;
    this.text += other.text;
    this.missing += other.missing;
    this.firstText ??= shifted(other.firstText, rows);
    this.firstMissing ??= shifted(other.firstMissing, rows);
    this.firstInfinite ??= shifted(other.firstInfinite, rows);
    this.integers &&= other.integers;
    if (other.overflow) this.overflow = true;
    for (const [n, count] of other.numbers) {
      if (this.overflow) break;
      const seen = this.numbers.get(n);
      if (seen !== undefined) this.numbers.set(n, seen + count);
      else if (this.distinct < MAX_VOCABULARY) this.numbers.set(n, count);
      else this.overflow = true;
    }
    const remap = new Int32Array(other.texts.length).fill(-1);
    other.texts.forEach((t, j) => {
      let id = this.textIds.get(t);
      if (id === undefined) {
        if (this.distinct >= MAX_VOCABULARY) {
          this.overflow = true;
          return;
        }
        id = this.texts.length;
        this.textIds.set(t, id);
        this.texts.push(t);
        this.textCounts.push(0);
      }
      this.textCounts[id] += other.textCounts[j];
      remap[j] = id;
    });
    return remap;
  }

  get distinct(): number {
    return this.numbers.size + this.texts.length;
  }

  get mostlyNumeric(): boolean {
    return this.numeric >= this.text;
  }

  /** Every distinct value as text (numbers as String(n)), unsorted. */
  values(): string[] {
    return [...[...this.numbers.keys()].map(String), ...this.texts];
  }

  /**
   * Maps cells to slots of `names` (a vocabulary or the class names): by text id, and by
   * number. A value outside `names` maps to -1.
   */
  lookup(names: string[]): { byText: Int32Array; byNumber: Map<number, number> } {
    const slot = new Map(names.map((n, i) => [n, i]));
    const byText = Int32Array.from(this.texts, (t) => slot.get(t) ?? -1);
    const byNumber = new Map<number, number>();
    for (const n of this.numbers.keys()) byNumber.set(n, slot.get(String(n)) ?? -1);
    return { byText, byNumber };
  }
}
