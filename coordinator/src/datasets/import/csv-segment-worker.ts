/**
 * A thread that parses one segment of a CSV or TSV file (csv-segments.ts): each record is
 * profiled and spooled as the import's own thread does the first segment, and the profile goes
 * back to be merged. A record with another field count than the header, which csv-parse does
 * not see here (it compares with the segment's first record), fails the segment, as does any
 * error: the import then parses the file in order and reports the place.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { eachRecord } from './csv-read.ts';
import type { SegmentJob, SegmentResult } from './csv-segments.ts';
import { TableProfiler } from './tabular.ts';

const job = workerData as SegmentJob;
const progress = new Float64Array(job.progress);
const counter = { bytes: 0 };
const profiler = new TableProfiler(job.header, job.options, job.fileName, job.spoolFile);
let answer: SegmentResult;
try {
  const columns = job.header.length;
  const records = await eachRecord(
    job,
    counter,
    undefined,
    (row, n) => {
      if (row.length !== columns) throw new Error(`record ${n} has ${row.length} fields, not ${columns}`);
      profiler.observe(row, n);
      if ((n & 0xfff) === 0) progress[job.slot] = counter.bytes;
    },
    job.range,
  );
  progress[job.slot] = counter.bytes;
  answer = { ok: true, records, snapshot: profiler.snapshot() };
} catch (e) {
  answer = { ok: false, message: (e as Error).message };
} finally {
  profiler.close();
}
parentPort!.postMessage(answer);
