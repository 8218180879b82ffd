/**
 * Reading a CSV or TSV file's records, whole or a segment at a time: csv-parse reads the file as
 * a stream (quotes, embedded newlines and CRLF handled by a maintained parser, not by us),
 * through a UTF-8 check so a file in another encoding is refused rather than read as mojibake.
 * Used by the import on its own thread and by the threads that parse later segments.
 */

import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { GridTabError } from '@gridtab/shared/errors';
import { CsvError, parse } from 'csv-parse';
import type { ImportInput } from '../importer.ts';
import { cancelled } from './cancelled.ts';

/** Bytes a UTF-8 character needs, from its lead byte (1 for anything else). */
function charLength(lead: number): number {
  return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
}

/**
 * Passes the bytes through, refusing invalid UTF-8 with the byte offset where it was found.
 * Bytes stay bytes (checked by Node's native isUtf8): csv-parse turns text back into a Buffer,
 * so decoding here would convert every byte twice. A character cut by the chunk's end is held
 * back for the next chunk, so each check sees whole characters.
 */
function utf8Check(fileName: string, counter: { bytes: number }): Transform {
  let carry: Buffer | null = null;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      let start = buf.length - 1;
      while (start > 0 && buf.length - start < 4 && (buf[start] & 0xc0) === 0x80) start--;
      const end = start >= 0 && buf.length - start < charLength(buf[start]) ? start : buf.length;
      carry = end < buf.length ? Buffer.from(buf.subarray(end)) : null;
      const body = buf.subarray(0, end);
      if (!isUtf8(body)) {
        done(new GridTabError('INVALID_FORMAT', `${fileName}: not UTF-8 text (near byte ${counter.bytes})`));
        return;
      }
      counter.bytes += body.length;
      done(null, body);
    },
    flush(done) {
      if (carry) {
        done(new GridTabError('INVALID_FORMAT', `${fileName}: not UTF-8 text (ends inside a character)`));
        return;
      }
      done();
    },
  });
}

/**
 * Where to read: the whole file, or one segment of it (csv-segments.ts). A segment other than
 * the first starts at a record's start, so it names the file's record delimiter (csv-parse
 * would otherwise discover it from the segment's first line) and has no byte-order mark.
 */
export interface CsvRange {
  start: number;
  /** Exclusive. */
  end: number;
  recordDelimiter?: '\n' | '\r\n';
}

/**
 * Calls `each` with the records of the file, or of its range (header first when the range
 * starts the file), and their 1-based numbers in the range; resolves with how many there were.
 * A callback, not a generator: one async step a record less, which the parse loop feels. The
 * file is read in 64 KiB chunks: csv-parse turns a whole chunk into records before any is
 * read, and with 1 MiB chunks those 24,000 records outlived the young generation, which
 * tripled the import's garbage collection.
 */
export async function eachRecord(
  input: Pick<ImportInput, 'path' | 'fileName' | 'format'>,
  counter: { bytes: number },
  signal: AbortSignal | undefined,
  each: (row: string[], n: number) => void,
  range?: CsvRange,
): Promise<number> {
  const delimiter = input.format === 'tsv' ? '\t' : ',';
  const source = createReadStream(input.path, {
    highWaterMark: 1 << 16,
    ...(range && { start: range.start, end: range.end - 1 }),
  });
  const parser = parse({
    delimiter,
    skip_empty_lines: true,
    bom: !range || range.start === 0,
    ...(range?.recordDelimiter && { record_delimiter: range.recordDelimiter }),
  });
  const decoder = utf8Check(input.fileName, counter);
  source.on('error', (e) => parser.destroy(e));
  decoder.on('error', (e) => parser.destroy(e));
  source.pipe(decoder).pipe(parser);
  let n = 0;
  try {
    // Drained with read() on 'readable' rather than `for await`: an async iteration per
    // record costs a promise each, a tenth of the parse's own time.
    await new Promise<void>((resolve, reject) => {
      parser.on('readable', () => {
        try {
          let row: string[] | null = parser.read();
          while (row !== null) {
            n++;
            if (signal?.aborted && n % 1024 === 0) throw cancelled();
            each(row, n);
            row = parser.read();
          }
        } catch (e) {
          reject(e);
          parser.destroy();
        }
      });
      parser.on('end', resolve);
      parser.on('error', reject);
    });
  } catch (e) {
    if (e instanceof GridTabError) throw e;
    if (e instanceof CsvError) {
      // The parser runs ahead of this loop, so the row comes from its own record count.
      const { lines: line, records: parsed } = e as unknown as { lines?: number; records?: number };
      if (
        e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' ||
        e.code === 'CSV_RECORD_INCONSISTENT_COLUMNS'
      ) {
        throw new GridTabError(
          'RAGGED_ROW',
          `${input.fileName}: row ${(parsed ?? n) + 1} (line ${line}): ${e.message}`,
        );
      }
      throw new GridTabError('INVALID_FORMAT', `${input.fileName}: line ${line}: ${e.message}`);
    }
    throw e;
  } finally {
    source.destroy();
  }
  return n;
}
