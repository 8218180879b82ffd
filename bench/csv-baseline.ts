/**
 * bench:datasets' CSV baseline: csv-parse alone on a file, drained the way the importer drains it
 * (read() on 'readable', 64 KiB reads). `forAwait` drains with the documented async-iterator
 * idiom instead, slower by the promise a record it costs. Resolves with the records read (the
 * header included). Run both in the bench's process and in a lean child (datasets-child.ts).
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';

export async function drainCsv(path: string, forAwait = false): Promise<number> {
  const parser = createReadStream(path, { highWaterMark: 1 << 16 }).pipe(
    parse({ skip_empty_lines: true, bom: true }),
  );
  let records = 0;
  if (forAwait) {
    for await (const _ of parser) records++;
    return records;
  }
  await new Promise<void>((resolve, reject) => {
    parser.on('readable', () => {
      while (parser.read() !== null) records++;
    });
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  return records;
}
