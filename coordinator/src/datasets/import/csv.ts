/**
 * CSV and TSV importer. csv-parse reads the file as a stream (quotes, embedded newlines and
 * CRLF handled by a maintained parser, not by us), through a UTF-8 check so a file in
 * another encoding is refused rather than read as mojibake. The file is parsed once: the parse
 * profiles the columns and spools the parsed rows (tabular.ts), so categories and classes are
 * known before the first shard is written; the spool is then replayed into a VersionBuilder.
 */

import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { GridTabError } from '@gridtab/shared';
import { CsvError, parse } from 'csv-parse';
import type { Importer, ImportInput } from '../importer.ts';
import { TableProfiler, tableSetup } from './tabular.ts';
import { cancelled, VersionBuilder } from './version-builder.ts';

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
 * Calls `each` with the file's records (header first) and their 1-based row numbers. A
 * callback, not a generator: one async step a record less, which the parse loop feels. The
 * file is read in 64 KiB chunks: csv-parse turns a whole chunk into records before any is
 * read, and with 1 MiB chunks those 24,000 records outlived the young generation, which
 * tripled the import's garbage collection.
 */
async function eachRecord(
  input: ImportInput,
  counter: { bytes: number },
  signal: AbortSignal | undefined,
  each: (row: string[], n: number) => void,
): Promise<void> {
  const delimiter = input.format === 'tsv' ? '\t' : ',';
  const source = createReadStream(input.path, { highWaterMark: 1 << 16 });
  const parser = parse({ delimiter, skip_empty_lines: true, bom: true });
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
}

export const importCsv: Importer = async (input, deps) => {
  const { options, fileName } = input;
  const bytesTotal = (await stat(input.path)).size;
  const counter = { bytes: 0 };
  let profiler = null as TableProfiler | null;
  try {
    // The one parse: profile and spool every row (tabular.ts).
    await eachRecord(input, counter, deps.signal, (row, n) => {
      if (profiler) {
        profiler.observe(row, n);
        if ((n & 0xfff) === 0) deps.onProgress?.({ bytesRead: counter.bytes, bytesTotal, rows: 0 });
      } else
        profiler = new TableProfiler(
          row.map((h) => h.trim()),
          options,
          fileName,
        );
    });
    if (!profiler) throw new GridTabError('EMPTY_DATASET', `${fileName}: the file is empty`);
    const plan = profiler.plan();
    const builder = new VersionBuilder(
      tableSetup(plan, options, { bytesRead: () => counter.bytes, bytesTotal }),
      deps,
    );
    return await builder.buildFrom(() => plan.replay(builder));
  } finally {
    profiler?.close();
  }
};
