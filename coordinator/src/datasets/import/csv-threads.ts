/**
 * The parse of one segment of a CSV or TSV file that is not the first (csv-segments.ts), and the
 * worker threads that run it. The importer's thread runs it too once its first segment is done:
 * every thread takes the next segment as it finishes one.
 */
import { Worker } from 'node:worker_threads';
import type { ImportOptions } from '../importer.ts';
import { type CsvRange, eachRecord } from './csv-read.ts';
import { TableProfiler, type TableSnapshot } from './tabular.ts';

/** What every segment of one import shares (a worker thread's workerData). */
export interface ParseSetup {
  path: string;
  fileName: string;
  format: 'csv' | 'tsv';
  /** The file's header, as the first segment reads it. */
  header: string[];
  options: ImportOptions;
  /** Bytes read so far by each thread, at its slot of a Float64Array over this memory. */
  progress: SharedArrayBuffer;
  slot: number;
}

export interface SegmentJob {
  range: CsvRange;
  /** Where the segment's rows are spooled (the importer deletes it). */
  spoolFile: string;
}

/** A segment's profile and its records (data rows), or why it could not be parsed. */
export type SegmentResult =
  | { ok: true; records: number; snapshot: TableSnapshot }
  | { ok: false; message: string };

/**
 * Profiles and spools one segment as the importer does the first. A record with another field
 * count than the header, which csv-parse does not see here (it compares with the segment's
 * first record), fails the segment, as does any error: the import then parses the file in
 * order, which names the place.
 */
export async function parseSegment(setup: ParseSetup, job: SegmentJob): Promise<SegmentResult> {
  const tally = new Float64Array(setup.progress);
  const before = tally[setup.slot];
  const counter = { bytes: 0 };
  const profiler = new TableProfiler(setup.header, setup.options, setup.fileName, job.spoolFile);
  try {
    const columns = setup.header.length;
    const records = await eachRecord(
      setup,
      counter,
      undefined,
      (row, n) => {
        if (row.length !== columns) throw new Error(`record ${n} has ${row.length} fields, not ${columns}`);
        profiler.observe(row, n);
        if ((n & 0xfff) === 0) tally[setup.slot] = before + counter.bytes;
      },
      job.range,
    );
    tally[setup.slot] = before + counter.bytes;
    return { ok: true, records, snapshot: profiler.snapshot() };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  } finally {
    profiler.close();
  }
}

const ENTRY = new URL('./csv-segment-worker-entry.mjs', import.meta.url);

/** A worker thread that parses the segments it is given, one at a time, until stopped. */
export class ParseThread {
  private readonly worker: Worker;
  private answer: ((r: SegmentResult) => void) | null = null;
  private ended: string | null = null;

  constructor(setup: ParseSetup) {
    this.worker = new Worker(ENTRY, {
      workerData: setup,
      execArgv: [],
      stdout: false,
      // A parse thread keeps little: its profile and a spool batch. The bounds keep an import's
      // peak memory near that of one thread more; a thread that needs more (a wide table of
      // many distinct values) dies, and the import falls back to the parse in order.
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 },
    });
    this.worker.on('message', (r: SegmentResult) => this.settle(r));
    this.worker.once('error', (e) => this.end(e.message));
    this.worker.once('exit', (code) => this.end(`the parse thread ended (exit code ${code})`));
  }

  run(job: SegmentJob): Promise<SegmentResult> {
    if (this.ended) return Promise.resolve({ ok: false, message: this.ended });
    return new Promise((resolve) => {
      this.answer = resolve;
      this.worker.postMessage(job);
    });
  }

  stop(): void {
    void this.worker.terminate();
  }

  private settle(r: SegmentResult): void {
    const answer = this.answer;
    this.answer = null;
    answer?.(r);
  }

  private end(why: string): void {
    this.ended ??= why;
    this.settle({ ok: false, message: why });
  }
}
