/**
 * CSV and TSV importer. csv-parse reads the file as a stream (quotes, embedded newlines and
 * CRLF handled by a maintained parser, not by us), through a fatal UTF-8 decoder so a file in
 * another encoding is refused rather than read as mojibake. The file is parsed once: the parse
 * profiles the columns and spools the parsed rows (tabular.ts), so categories and classes are
 * known before the first shard is written; the spool is then replayed into a VersionBuilder.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { GridTabError } from '@gridtab/shared';
import { CsvError, parse } from 'csv-parse';
import type { Importer, ImportInput } from '../importer.ts';
import { TableProfiler } from './tabular.ts';
import { cancelled, VersionBuilder } from './version-builder.ts';

/** Bytes to text, refusing invalid UTF-8 with the byte offset where it was found. */
function utf8Decoder(fileName: string, counter: { bytes: number }): Transform {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _enc, done) {
      try {
        const text = decoder.decode(chunk, { stream: true });
        counter.bytes += chunk.length;
        done(null, text);
      } catch {
        done(new GridTabError('INVALID_FORMAT', `${fileName}: not UTF-8 text (near byte ${counter.bytes})`));
      }
    },
    flush(done) {
      try {
        done(null, decoder.decode());
      } catch {
        done(new GridTabError('INVALID_FORMAT', `${fileName}: not UTF-8 text (ends inside a character)`));
      }
    },
  });
}

/**
 * Calls `each` with the file's records (header first) and their 1-based row numbers. A
 * callback, not a generator: one async step a record less, which the parse loop feels.
 */
async function eachRecord(
  input: ImportInput,
  counter: { bytes: number },
  signal: AbortSignal | undefined,
  each: (row: string[], n: number) => void,
): Promise<void> {
  const delimiter = input.format === 'tsv' ? '\t' : ',';
  const source = createReadStream(input.path, { highWaterMark: 1 << 20 });
  const parser = parse({ delimiter, skip_empty_lines: true, bom: true });
  const decoder = utf8Decoder(input.fileName, counter);
  source.on('error', (e) => parser.destroy(e));
  decoder.on('error', (e) => parser.destroy(e));
  source.pipe(decoder).pipe(parser);
  let n = 0;
  try {
    for await (const row of parser as AsyncIterable<string[]>) {
      n++;
      if (signal?.aborted && n % 1024 === 0) throw cancelled();
      each(row, n);
    }
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
      {
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
        seed: options.seed,
        testFraction: options.testFraction,
        bytesRead: () => counter.bytes,
        bytesTotal,
      },
      deps,
    );
    return await builder.buildFrom(() => plan.replay(builder));
  } finally {
    profiler?.close();
  }
};
