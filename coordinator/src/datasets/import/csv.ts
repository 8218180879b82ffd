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
import { planSegments, type SegmentPlan } from './csv-segments.ts';
import {
  type ParseSetup,
  ParseThread,
  parseSegment,
  type SegmentJob,
  type SegmentResult,
} from './csv-threads.ts';
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
 * Parses the first segment here while worker threads start on the next ones; every thread then
 * takes the next segment as it finishes one, and the profiles are merged in file order. Null
 * when any segment fails (a cut inside a quoted line break, or a bad file): the caller then
 * parses the file in order, which names a real error's place.
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
  const progress = new SharedArrayBuffer(8 * plan.threads);
  const tally = new Float64Array(progress);
  const report = () => tally.reduce((a, b) => a + b, counter.bytes);
  const { path, fileName, options } = input;
  const format = input.format === 'tsv' ? 'tsv' : 'csv';
  const setup = (slot: number): ParseSetup => ({ path, fileName, format, header, options, progress, slot });
  const threads = Array.from({ length: plan.threads - 1 }, (_, i) => new ParseThread(setup(i + 1)));
  const stopAll = () => {
    for (const t of threads) t.stop();
  };
  deps.signal?.addEventListener('abort', stopAll, { once: true });

  // Segments 1 and on, to whichever thread is free; a failure stops the handing out.
  const results: SegmentResult[] = [];
  const spoolFile = (i: number) => join(spools, `segment-${i}.bin`);
  let next = 1;
  let failed = false;
  const drive = async (run: (job: SegmentJob) => Promise<SegmentResult>) => {
    while (!failed && next < ranges.length) {
      const i = next++;
      results[i] = await run({ range: ranges[i], spoolFile: spoolFile(i) });
      if (!results[i].ok) failed = true;
    }
  };
  const others = threads.map((t) => drive((job) => t.run(job)));

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
    await drive((job) => parseSegment(setup(0), job));
    await Promise.all(others);
    if (deps.signal?.aborted) throw cancelled();
    if (failed) return null;
    let rowsBefore = records;
    for (let i = 1; i < ranges.length; i++) {
      const r = results[i];
      if (!r.ok) return null;
      first.absorb(r.snapshot, spoolFile(i), rowsBefore);
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
