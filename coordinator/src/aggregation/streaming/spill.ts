/**
 * Bounded, spill-to-disk storage of a round's updates for the rules that need every value of a
 * coordinate (median, trimmed mean, centered clipping). Updates arrive as rows (one per
 * update); the rules read columns. So rows are buffered in memory (at most `bufferBytes`) and
 * written to a temp file transposed, as a segment: the buffered rows' values for coordinates
 * [0, W), then [W, 2W), and so on (write blocks of width W, each rows x W, row-major inside).
 * Reading coordinates [c0, c0 + F), F a multiple of W, is then one contiguous read per segment.
 *
 * Memory: the row buffer while folding (its rows are reused from one segment to the next, so
 * the garbage collector never holds old ones), at most `queue` callers' rows waiting by
 * reference while a segment is written, and at finish the blocks being read (each at most
 * `blockBytes`, two at a time while the next is read ahead). A row that comes while the queue is
 * full is written to a second temp file at once (synchronously: the burst's sender pays) and
 * read back when its turn comes, so a burst costs disk, never memory. Everything else is on
 * disk, or in the page cache the kernel is free to drop. close() removes the files.
 */

import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SpillOptions {
  /** Directory for the temp file (default: the OS temp directory). */
  dir?: string;
  /** Memory for buffered rows before they are written (default 64 MiB, at least one row). */
  bufferBytes?: number;
  /** Write-block width W in coordinates (default 4096). */
  blockWidth?: number;
  /** Rows held by reference while a segment is written (default: as fit in 64 MiB, 1 to 16). */
  queue?: number;
}

/** Coordinates [c0, c0 + width) of every row, in shared memory for the workers. */
export interface ColumnBlock {
  c0: number;
  width: number;
  /** The values: per segment (in fold order), per write block, rows x block width. */
  data: SharedArrayBuffer;
  /** [rows, float offset in data] per segment, flattened. */
  segments: number[];
  /** Write-block width. */
  W: number;
  /** Model length (the last write block may be narrower than W). */
  n: number;
}

interface Segment {
  rows: number;
  offset: number;
}

/** Bytes moved per write while transposing: small pieces, so the event loop is never held long. */
const WRITE_PIECE = 4 << 20;

export class ColumnSpill {
  rows = 0;
  readonly W: number;
  readonly capacity: number;
  readonly queue: number;
  /** Rows written to the queue file so far (the queue was full when they came). */
  queueSpilled = 0;
  /** The most callers' rows held at once, waiting for their turn. */
  peakQueued = 0;
  /** Rows not yet written: copies, in arrays reused from segment to segment (`spare`). */
  private buffered: Float32Array[] = [];
  private spare: Float32Array[] = [];
  private piece: Float32Array | null = null;
  private queued = 0;
  private queueFile: { dir: string; fd: number; end: number; unread: number } | null = null;
  private readonly segments: Segment[] = [];
  private end = 0;
  private file: Promise<{ dir: string; fh: FileHandle }> | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly length: number,
    private readonly options: SpillOptions = {},
  ) {
    this.W = options.blockWidth ?? 4096;
    const rowBytes = Math.max(1, length * 4);
    this.capacity = Math.max(1, Math.floor((options.bufferBytes ?? 64 << 20) / rowBytes));
    this.queue = Math.max(1, options.queue ?? Math.min(16, Math.floor((64 << 20) / rowBytes)));
  }

  /** Bytes of the bounded buffers while folding: the row buffer, the queue, the write piece. */
  get foldingBytes(): number {
    return (this.capacity + this.queue) * this.length * 4 + WRITE_PIECE;
  }

  /**
   * Copies `row` in, in its turn (the caller keeps it until the promise resolves); writes a
   * segment when the buffer is full. In call order.
   */
  append(row: Float32Array): Promise<void> {
    if (row.length !== this.length) throw new Error(`spill: row of ${row.length} values, not ${this.length}`);
    this.rows++;
    let source: Float32Array | null = row;
    let at = 0;
    if (this.queued >= this.queue) {
      at = this.queueOut(row);
      source = null;
    } else {
      this.queued++;
      this.peakQueued = Math.max(this.peakQueued, this.queued);
    }
    // Appends queue behind a segment being written, so rows keep their order in the file.
    this.writing = this.writing.then(async () => {
      const copy = this.spare.pop() ?? new Float32Array(this.length);
      if (source) {
        copy.set(source); // a memcpy; Float32Array.from iterates value by value
        this.queued--;
      } else this.queueIn(at, copy);
      this.buffered.push(copy);
      if (this.buffered.length === this.capacity) await this.writeSegment();
    });
    return this.writing;
  }

  /** Writes a row to the queue file now; returns where. */
  private queueOut(row: Float32Array): number {
    if (!this.queueFile) {
      const dir = mkdtempSync(join(this.options.dir ?? tmpdir(), 'gridtab-spill-queue-'));
      this.queueFile = { dir, fd: openSync(join(dir, 'queue'), 'w+'), end: 0, unread: 0 };
    }
    const q = this.queueFile;
    const bytes = new Uint8Array(row.buffer, row.byteOffset, row.byteLength);
    for (let done = 0; done < bytes.length; )
      done += writeSync(q.fd, bytes, done, bytes.length - done, q.end + done);
    const at = q.end;
    q.end += bytes.length;
    q.unread++;
    this.queueSpilled++;
    return at;
  }

  /** Reads a queued row back (a page-cache read of one row, in its turn). */
  private queueIn(at: number, into: Float32Array): void {
    const q = this.queueFile!;
    const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    for (let done = 0; done < bytes.length; ) {
      const n = readSync(q.fd, bytes, done, bytes.length - done, at + done);
      if (n === 0) throw new Error('spill: queue file ended early');
      done += n;
    }
    if (--q.unread === 0) q.end = 0; // every queued row is back: the file starts over
  }

  private handle() {
    this.file ??= (async () => {
      const dir = await mkdtemp(join(this.options.dir ?? tmpdir(), 'gridtab-spill-'));
      return { dir, fh: await open(join(dir, 'columns'), 'w+') };
    })();
    return this.file;
  }

  private async writeSegment(): Promise<void> {
    const buffered = this.buffered;
    const rows = buffered.length;
    if (rows === 0) return;
    const { fh } = await this.handle();
    const { length: n, W } = this;
    const size = Math.max(rows * W, WRITE_PIECE >> 2);
    if (!this.piece || this.piece.length < size) this.piece = new Float32Array(size);
    const piece = this.piece;
    let filled = 0;
    let position = this.end;
    for (let c0 = 0; c0 < n; c0 += W) {
      const w = Math.min(W, n - c0);
      if (filled + rows * w > piece.length) {
        await fh.write(new Uint8Array(piece.buffer, 0, filled * 4), 0, filled * 4, position);
        position += filled * 4;
        filled = 0;
      }
      for (const row of buffered) {
        piece.set(row.subarray(c0, c0 + w), filled);
        filled += w;
      }
    }
    await fh.write(new Uint8Array(piece.buffer, 0, filled * 4), 0, filled * 4, position);
    this.segments.push({ rows, offset: this.end });
    this.end += rows * n * 4;
    this.spare.push(...buffered);
    this.buffered = [];
  }

  /** Writes what is buffered; after this, blocks() sees every row. */
  async flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writeSegment());
    await this.writing;
  }

  /** Block width F for blocks of at most `blockBytes` (a multiple of W, at least W). */
  widthFor(blockBytes: number): number {
    return Math.max(1, Math.floor(blockBytes / (Math.max(1, this.rows) * 4 * this.W))) * this.W;
  }

  /** Reads coordinates [c0, c0 + width) of every row (c0 a multiple of W). */
  async read(c0: number, width: number, into?: SharedArrayBuffer): Promise<ColumnBlock> {
    const { fh } = await this.handle();
    const data =
      into && into.byteLength >= this.rows * width * 4 ? into : new SharedArrayBuffer(this.rows * width * 4);
    const bytes = new Uint8Array(data);
    const segments: number[] = [];
    let at = 0;
    for (const { rows, offset } of this.segments) {
      const size = rows * width * 4;
      let done = 0;
      while (done < size) {
        const { bytesRead } = await fh.read(bytes, at + done, size - done, offset + rows * c0 * 4 + done);
        if (bytesRead === 0) throw new Error('spill: file ended early');
        done += bytesRead;
      }
      segments.push(rows, at / 4);
      at += size;
    }
    return { c0, width, data, segments, W: this.W, n: this.length };
  }

  /**
   * Every block of width `width` in order, the next one read while the caller works on this one.
   * Two buffers take turns (fresh 64 MiB buffers per block were freed late by the GC), so a block
   * is valid only until the caller asks for the one after the next.
   */
  async *blocks(width: number): AsyncGenerator<ColumnBlock> {
    await this.flush();
    const buffers = [0, 1].map(() => new SharedArrayBuffer(this.rows * Math.min(width, this.length) * 4));
    let next = this.length > 0 ? this.read(0, Math.min(width, this.length), buffers[0]) : null;
    for (let c0 = 0, k = 1; next; c0 += width, k++) {
      const block = await next;
      const c1 = c0 + width;
      next = c1 < this.length ? this.read(c1, Math.min(width, this.length - c1), buffers[k % 2]) : null;
      // A caller that stops early never awaits the read ahead; its failure must not go unhandled.
      next?.catch(() => {});
      yield block;
    }
  }

  async close(): Promise<void> {
    await this.writing.catch(() => {});
    this.spare = [];
    this.piece = null;
    if (this.queueFile) {
      closeSync(this.queueFile.fd);
      rmSync(this.queueFile.dir, { recursive: true, force: true });
      this.queueFile = null;
    }
    const file = this.file;
    this.file = null;
    if (!file) return;
    const { dir, fh } = await file;
    await fh.close();
    await rm(dir, { recursive: true, force: true });
  }
}
