/**
 * The file under yauzl, read through a window of WINDOW bytes. yauzl reads a zip entry with
 * two or three small positioned reads (its local header, then its data) through the libuv
 * thread pool, which sharp's decodes also use: for an archive of small images those reads
 * cost more than the decodes and queue behind them. Entries are read in name order, which is
 * nearly archive order, so one read of a window serves the next dozens or thousands of them.
 * Memory holds two windows (the current one and the one before, for a decode that lags);
 * a range larger than a window (an NPZ's array) streams from the file as before.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';

const WINDOW = 1 << 20;

interface Window {
  start: number;
  bytes: Buffer;
}

export class WindowedReader extends yauzl.RandomAccessReader {
  private windows: Window[] = [];
  /** Window loads, one at a time, in request order. */
  private loading: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly file: fs.FileHandle,
    readonly size: number,
  ) {
    super();
  }

  static async open(path: string): Promise<WindowedReader> {
    const file = await fs.open(path, 'r');
    try {
      return new WindowedReader(file, (await file.stat()).size);
    } catch (e) {
      await file.close();
      throw e;
    }
  }

  private cached(start: number, end: number): Buffer | null {
    for (const w of this.windows)
      if (start >= w.start && end <= w.start + w.bytes.length)
        return w.bytes.subarray(start - w.start, end - w.start);
    return null;
  }

  /** Bytes [start, end) of the file (at most WINDOW of them), from a window. */
  private async range(start: number, end: number): Promise<Buffer> {
    const hit = this.cached(start, end);
    if (hit) return hit;
    const load = this.loading.then(async () => {
      const again = this.cached(start, end);
      if (again) return again;
      const length = Math.min(WINDOW, this.size - start);
      // A fresh buffer a window: slices handed out of the old one stay valid.
      const bytes = Buffer.allocUnsafe(Math.max(length, 0));
      let got = 0;
      while (got < length) {
        const { bytesRead } = await this.file.read(bytes, got, length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      this.windows = [{ start, bytes: bytes.subarray(0, got) }, ...this.windows.slice(0, 1)];
      const out = this.cached(start, end);
      if (!out) throw new Error(`unexpected end of file reading bytes ${start}-${end}`);
      return out;
    });
    this.loading = load.catch(() => {});
    return load;
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null) => void,
  ): void {
    if (length > WINDOW) {
      super.read(buffer, offset, length, position, callback);
      return;
    }
    this.range(position, position + length).then(
      (bytes) => {
        bytes.copy(buffer, offset);
        callback(null);
      },
      (e: Error) => callback(e),
    );
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end - start > WINDOW)
      return createReadStream('', { fd: this.file, start, end: end - 1, autoClose: false });
    const out = new Readable({ read() {} });
    this.range(start, end).then(
      (bytes) => {
        out.push(bytes);
        out.push(null);
      },
      (e: Error) => out.destroy(e),
    );
    return out;
  }

  override close(callback: (err: Error | null) => void): void {
    this.windows = [];
    this.file.close().then(
      () => callback(null),
      (e: Error) => callback(e),
    );
  }
}
