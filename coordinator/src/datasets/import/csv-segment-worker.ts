/**
 * A worker thread that parses segments of a CSV or TSV file (csv-threads.ts): each segment it
 * is sent is profiled and spooled, and its profile goes back to be merged.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type ParseSetup, parseSegment, type SegmentJob } from './csv-threads.ts';

const setup = workerData as ParseSetup;
parentPort!.on('message', async (job: SegmentJob) => {
  parentPort!.postMessage(await parseSegment(setup, job));
});
