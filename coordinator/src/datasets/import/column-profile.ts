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

export interface Place {
  row: number;
  value?: string;
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

  constructor(
    readonly name: string,
    readonly index: number,
  ) {}

  /** Profiles one cell and writes it to the spool. */
  observe(c: Cell, row: number, spool: RowSpool): void {
    if (c === null) {
      this.missing++;
      this.firstMissing ??= { row };
      spool.set(this.index, CELL_MISSING, 0);
      return;
    }
    if (typeof c === 'number') {
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
      return;
    }
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
