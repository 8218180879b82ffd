/**
 * A temporary file of parsed rows, so a tabular import parses its file once: the profiling
 * pass writes each row's cells here as fixed-size binary records (a float64 and a kind byte
 * per column, then the row's split), and the encoding pass replays them, which costs a read
 * instead of a second parse. Memory holds one batch (about 1 MB) whatever the file's size.
 * Writes and reads are synchronous: the temp file is local, and a sync write keeps the parse
 * loop free of an await per batch.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a spooled cell holds: a number (maybe infinite), nothing, or a text id of its column. */
export const CELL_NUMBER = 0;
export const CELL_MISSING = 1;
export const CELL_TEXT = 2;

const BATCH_BYTES = 1 << 20;

/** One batch of records as read back: record r's cells start at r * stride (in float64s). */
export interface SpoolBatch {
  count: number;
  values: Float64Array;
  kinds: Uint8Array;
  /** Record length in float64s; kinds of record r start at byte r * stride * 8 + columns * 8. */
  stride: number;
}

export class RowSpool {
  /** Record length in float64s: the cells, then the kinds and the split byte, padded. */
  readonly stride: number;
  private readonly perBatch: number;
  private readonly buffer: Buffer;
  private readonly values: Float64Array;
  /** The temporary folder this spool made and deletes, or null when the caller owns the file. */
  private readonly dir: string | null;
  private fd: number;
  private inBatch = 0;
  private base = 0;
  rows = 0;

  /**
   * A new spool in a temporary folder of its own, or in `file` (created or emptied; the caller
   * owns it and deletes it: a thread that spools one segment of a file for another to read).
   */
  constructor(
    readonly columns: number,
    file?: string,
    read = false,
  ) {
    this.stride = Math.ceil((columns * 9 + 1) / 8);
    this.perBatch = Math.max(1, Math.floor(BATCH_BYTES / (this.stride * 8)));
    this.buffer = Buffer.alloc(this.perBatch * this.stride * 8);
    this.values = new Float64Array(this.buffer.buffer, this.buffer.byteOffset, this.perBatch * this.stride);
    this.dir = file ? null : mkdtempSync(join(tmpdir(), 'gridtab-spool-'));
    this.fd = openSync(file ?? join(this.dir!, 'rows.bin'), read ? 'r' : 'w+');
  }

  /** A spool another thread wrote to `file` (its `rows` records), for batches() to read. */
  static open(file: string, columns: number, rows: number): RowSpool {
    const spool = new RowSpool(columns, file, true);
    spool.rows = rows;
    return spool;
  }

  /** Sets cell `column` of the row being written. */
  set(column: number, kind: number, value: number): void {
    this.values[this.base + column] = value;
    this.buffer[this.base * 8 + this.columns * 8 + column] = kind;
  }

  /** Closes the row being written; `test` is its split. */
  endRow(test: boolean): void {
    this.buffer[this.base * 8 + this.columns * 9] = test ? 1 : 0;
    this.rows++;
    if (++this.inBatch === this.perBatch) this.flush();
    this.base = this.inBatch * this.stride;
  }

  private flush(): void {
    const bytes = this.inBatch * this.stride * 8;
    let done = 0;
    while (done < bytes) done += writeSync(this.fd, this.buffer, done, bytes - done);
    this.inBatch = 0;
  }

  /** The records in write order, a batch at a time (each batch reuses the same memory). */
  *batches(): Generator<SpoolBatch> {
    this.flush();
    this.base = 0;
    const recordBytes = this.stride * 8;
    let position = 0;
    for (;;) {
      let got = 0;
      while (got < this.buffer.length) {
        const n = readSync(this.fd, this.buffer, got, this.buffer.length - got, position + got);
        if (n === 0) break;
        got += n;
      }
      const count = Math.floor(got / recordBytes);
      if (count === 0) return;
      position += count * recordBytes;
      yield { count, values: this.values, kinds: this.buffer, stride: this.stride };
    }
  }

  /** Writes out the rows still in memory, so another thread can read the file. */
  seal(): void {
    this.flush();
  }

  /** Closes the file, and deletes it when this spool made it (safe to call twice). */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
