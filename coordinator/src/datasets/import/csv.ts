/**
 * CSV and TSV importer. The file is parsed once (csv-read.ts): the parse profiles the columns
 * and spools the parsed rows (tabular.ts), so categories and classes are known before the
 * first shard is written; the spool is then replayed into a VersionBuilder. A large file is
 * parsed in segments on several threads (csv-segments.ts), which gives the same version.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GridTabError } from '@gridtab/shared';
import { parse as parseSync } from 'csv-parse/sync';
import type { ImportDeps, Importer, ImportInput } from '../importer.ts';
import { type CsvRange, eachRecord } from './csv-read.ts';
import { parseInThread, planSegments, type SegmentPlan } from './csv-segments.ts';
import { TableProfiler, tableSetup } from './tabular.ts';
import { cancelled, VersionBuilder } from './version-builder.ts';

type Counter = { bytes: number };

export const importCsv: Importer = async (input, deps) => {
  const bytesTotal = (await stat(input.path)).size;
  const counter: Counter = { bytes: 0 };
  const segments = await planSegments(input.path, bytesTotal, deps.parallelism);
  let spools: string | null = null;
  let profiler: TableProfiler | null = null;
  try {
    if (segments) {
      spools = await mkdtemp(join(tmpdir(), 'gridtab-segments-'));
      profiler = await profileInSegments(input, deps, segments, spools, counter, bytesTotal);
    }
    if (!profiler) {
      counter.bytes = 0;
      ({ profiler } = await profile(input, deps, counter, bytesTotal));
    }
    const plan = profiler.plan();
    const builder = new VersionBuilder(
      tableSetup(plan, input.options, { bytesRead: () => counter.bytes, bytesTotal }),
      deps,
    );
    return await builder.buildFrom(() => plan.replay(builder));
  } finally {
    profiler?.close();
    if (spools) await rm(spools, { recursive: true, force: true });
  }
};

/**
 * Parses the file, or its first segment, on this thread: the header makes the profiler, which
 * then sees every record. `report` adds the other segments' progress. Resolves with the
 * profiler and the records read (the header included).
 */
async function profile(
  input: ImportInput,
  deps: ImportDeps,
  counter: Counter,
  bytesTotal: number,
  range?: CsvRange,
  report: () => number = () => counter.bytes,
): Promise<{ profiler: TableProfiler; records: number }> {
  let profiler = null as TableProfiler | null;
  let records: number;
  try {
    records = await eachRecord(
      input,
      counter,
      deps.signal,
      (row, n) => {
        if (profiler) {
          profiler.observe(row, n);
          if ((n & 0xfff) === 0) deps.onProgress?.({ bytesRead: report(), bytesTotal, rows: 0 });
        } else profiler = new TableProfiler(trimmed(row), input.options, input.fileName);
      },
      range,
    );
  } catch (e) {
    profiler?.close();
    throw e;
  }
  if (!profiler) throw new GridTabError('EMPTY_DATASET', `${input.fileName}: the file is empty`);
  return { profiler, records };
}

const trimmed = (header: string[]) => header.map((h) => h.trim());

/**
 * Parses the first segment here and the others on threads of their own, all at once, then
 * merges them in file order. Null when any segment fails (a cut inside a quoted line break, or
 * a bad file): the caller then parses the file in order, which names a real error's place.
 */
export async function profileInSegments(
  input: ImportInput,
  deps: ImportDeps,
  plan: SegmentPlan,
  spools: string,
  counter: Counter,
  bytesTotal: number,
): Promise<TableProfiler | null> {
  const { ranges } = plan;
  const delimiter = input.format === 'tsv' ? '\t' : ',';
  // The header line holds no quote (planSegments), so it parses alone as it does in the file.
  const header = trimmed((parseSync(plan.headerLine, { delimiter, bom: true }) as string[][])[0] ?? []);
  const progress = new SharedArrayBuffer(8 * ranges.length);
  const others = new Float64Array(progress);
  const report = () => others.reduce((a, b) => a + b, counter.bytes);
  const threads = ranges.slice(1).map((range, i) => {
    const spoolFile = join(spools, `segment-${i + 1}.bin`);
    const { path, fileName, options } = input;
    const format = input.format === 'tsv' ? 'tsv' : 'csv';
    const job = { path, fileName, format, range, header, options, spoolFile, progress, slot: i + 1 } as const;
    return { spoolFile, ...parseInThread(job) };
  });
  const stopAll = () => {
    for (const t of threads) t.stop();
  };
  deps.signal?.addEventListener('abort', stopAll, { once: true });
  let first: TableProfiler | null = null;
  let ticker: NodeJS.Timeout | undefined;
  try {
    let records: number;
    try {
      ({ profiler: first, records } = await profile(input, deps, counter, bytesTotal, ranges[0], report));
    } catch (e) {
      if (deps.signal?.aborted) throw e;
      return null;
    }
    ticker = setInterval(() => deps.onProgress?.({ bytesRead: report(), bytesTotal, rows: 0 }), 250);
    const results = await Promise.all(threads.map((t) => t.result));
    if (deps.signal?.aborted) throw cancelled();
    let rowsBefore = records;
    for (const [i, r] of results.entries()) {
      if (!r.ok) return null;
      first.absorb(r.snapshot, threads[i].spoolFile, rowsBefore);
      rowsBefore += r.records;
    }
    counter.bytes = report();
    const merged = first;
    first = null;
    return merged;
  } finally {
    clearInterval(ticker);
    stopAll();
    deps.signal?.removeEventListener('abort', stopAll);
    first?.close();
  }
}
