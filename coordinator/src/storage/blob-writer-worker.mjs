/**
 * A blob batch's file writer (blob-writer.ts): writes each temporary file it is sent, then fsyncs
 * it in the background, SYNCS at a time, on the thread pool. Creating a file waits on the file
 * system's journal while others are being synced (0.2-0.3 ms a file on ext4): here that wait is
 * this thread's, not the importing thread's.
 *
 * Messages: { op: 'write', path, at, length, span } (no reply: the bytes are at `at` in the
 * shared ring, and its `span` bytes are released once written, or skipped), or { op: 'write',
 * path, bytes } for a blob too big for the ring; { op: 'drain' } -> { op: 'drained', error }, once
 * every write before it is done and synced, with the first failure ({ message, code }) or null. Once the
 * shared ABORTED flag is set, writes still queued are skipped and no new sync starts.
 */
import { promises as fs, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

/** Fields of the shared state (blob-writer.ts). */
const RELEASED = 0;
const ABORTED = 1;
/** fsyncs at once: more kept up at commit, but slowed the import's writes (blob-store.ts). */
const SYNCS = 4;

const state = new Int32Array(workerData.state);
const ring = new Uint8Array(workerData.ring);
const waiting = [];
let active = 0;
/** The first write or sync that failed. */
let failure = null;
const idle = [];

async function syncPath(path) {
  const handle = await fs.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function pump() {
  if (Atomics.load(state, ABORTED) === 1) waiting.length = 0;
  while (active < SYNCS && waiting.length > 0) {
    const path = waiting.shift();
    active++;
    syncPath(path)
      .catch((e) => {
        failure ??= e;
      })
      .finally(() => {
        active--;
        pump();
      });
  }
  if (active === 0 && waiting.length === 0) for (const done of idle.splice(0)) done();
}

parentPort.on('message', async (m) => {
  if (m.op === 'write') {
    if (Atomics.load(state, ABORTED) === 0 && failure === null) {
      try {
        writeFileSync(m.path, m.bytes ?? ring.subarray(m.at, m.at + m.length));
        waiting.push(m.path);
        pump();
      } catch (e) {
        failure = e;
      }
    }
    if (m.span !== undefined) {
      Atomics.add(state, RELEASED, m.span); // wraps at 2^31, as the writer's count does
      Atomics.notify(state, RELEASED);
    }
  } else if (m.op === 'drain') {
    pump();
    if (active > 0 || waiting.length > 0) await new Promise((r) => idle.push(r));
    parentPort.postMessage({
      op: 'drained',
      error: failure ? { message: String(failure.message ?? failure), code: failure.code } : null,
    });
  }
});
