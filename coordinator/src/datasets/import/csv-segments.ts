/**
 * Parsing a large CSV or TSV file on several threads. The parse (csv-parse, then profiling and
 * spooling each row) is most of an import's time and runs on one core; here the file is cut
 * into segments at line ends, the importer's thread parses the first while worker threads
 * start on the next ones, every thread takes the next segment as it finishes one (csv.ts,
 * csv-threads.ts), and the profiles and spools are merged in file order
 * (TableProfiler.absorb), so the version is the one a parse in order gives, bit for bit.
 *
 * A cut at a line end is a record boundary unless it falls inside a quoted field that holds a
 * line break. That shows when the segment before it ends inside quotes: csv-parse then fails
 * with an unclosed quote. So any failure of any segment (that one, or a bad file) falls back
 * to one parse in order, which gives the exact error and place an in-order parse would. The
 * file is cut only when its header names the record delimiter beyond doubt (no quote and no
 * stray carriage return in the first line): csv-parse discovers the delimiter there, and
 * later segments are told it instead of discovering it from their own first line.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { CsvRange } from './csv-read.ts';

/** Bytes a thread must have to parse for it to be worth starting (about 0.4 s with tsx). */
export const MIN_SEGMENT_BYTES = 16 << 20;
/**
 * Segments shrink as the file is cut: each is the bytes left over twice the threads, and no
 * less than this share of the file. The threads take segments as they finish their last, so
 * one that started late (a worker thread loads for 0.4 s) or runs slower waits at the end for
 * one small segment, not a large one. With one equal segment a thread, the slower of two
 * waited 0.4 to 1 s for the other (200 MB, 2 cores), and with 8 equal ones 0.75 s.
 */
const SMALLEST_SHARE = 1 / 64;
/**
 * Threads a parse uses by default, the importer's own included, when the cores allow. Each
 * more adds its heap to the import's peak memory: 200 MB of CSV peaked at 241-252 MB on 2
 * threads and 322-406 MB on 4, against the 300 MB bound an import keeps whatever the file.
 */
export const DEFAULT_PARSE_THREADS = 2;
/** Threads a parse uses at most, when asked for more (GRIDTAB_IMPORT_THREADS). */
export const MAX_PARSE_THREADS = 4;
/** How far past a cut's target to look for a line end before giving that cut up. */
const SEARCH_BYTES = 1 << 20;

export interface ParseParallelism {
  /** Threads to parse on, the importer's own included (default: the cores, at most 2; at most 4). */
  threads?: number;
  /** The least bytes a thread may have to parse (default MIN_SEGMENT_BYTES; tests cut small files). */
  minSegmentBytes?: number;
}

export interface SegmentPlan {
  /** Threads to parse on, the importer's own included. */
  threads: number;
  /** In file order; the first starts at 0 and keeps csv-parse's own delimiter discovery. */
  ranges: CsvRange[];
  /** The file's first line, without its line end: the header, for the other threads. */
  headerLine: Buffer;
}

/** The segments to parse, or null when the file is parsed in one piece. */
export async function planSegments(
  path: string,
  size: number,
  parallelism: ParseParallelism = {},
): Promise<SegmentPlan | null> {
  const cores = Math.min(
    parallelism.threads ?? Math.min(availableParallelism(), DEFAULT_PARSE_THREADS),
    MAX_PARSE_THREADS,
  );
  const threads = Math.min(cores, Math.floor(size / (parallelism.minSegmentBytes ?? MIN_SEGMENT_BYTES)));
  if (threads < 2) return null;
  const file = await open(path, 'r');
  try {
    const head = await readAt(file, 0, Math.min(size, SEARCH_BYTES));
    const lineEnd = head.indexOf(0x0a);
    if (lineEnd < 0) return null;
    const header = head.subarray(0, lineEnd);
    const crlf = header.length > 0 && header[header.length - 1] === 0x0d;
    if (header.includes(0x22) || header.subarray(0, crlf ? -1 : undefined).includes(0x0d)) return null;
    const recordDelimiter: CsvRange['recordDelimiter'] = crlf ? '\r\n' : '\n';
    const cuts: number[] = [];
    const smallest = Math.ceil(size * SMALLEST_SHARE);
    for (let at = lineEnd + 1; ; ) {
      const from = at + Math.max(smallest, Math.ceil((size - at) / (2 * threads)));
      if (from >= size) break;
      const cut = await nextLineStart(file, from, size, crlf);
      if (cut !== null && cut < size) cuts.push(cut);
      at = cut ?? from;
    }
    if (cuts.length === 0) return null;
    const bounds = [0, ...cuts, size];
    const ranges = bounds.slice(1).map((end, i) => ({
      start: bounds[i],
      end,
      ...(i > 0 && { recordDelimiter }),
    }));
    return { threads, ranges, headerLine: Buffer.from(header.subarray(0, crlf ? -1 : undefined)) };
  } finally {
    await file.close();
  }
}

async function readAt(file: FileHandle, at: number, length: number) {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await file.read(buf, 0, length, at);
  return buf.subarray(0, bytesRead);
}

/**
 * The offset just past the first record delimiter at or after `from` (a "\r\n" pair when the
 * file's records end so, its "\r" read too), or null within SEARCH_BYTES of none.
 */
async function nextLineStart(
  file: FileHandle,
  from: number,
  size: number,
  crlf: boolean,
): Promise<number | null> {
  const at = from - 1;
  const window = await readAt(file, at, Math.min(size - at, SEARCH_BYTES));
  for (let i = window.indexOf(0x0a, 1); i >= 0; i = window.indexOf(0x0a, i + 1)) {
    if (!crlf || window[i - 1] === 0x0d) return at + i + 1;
  }
  return null;
}
