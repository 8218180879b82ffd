/**
 * Writes a blob batch's temporary files on a thread of their own (blob-writer-worker.mjs), which
 * also fsyncs them in the background. Written on the importing thread, a 200 MB CSV's 6,000 shard
 * files held it 1.2 s in open(), waiting on the ext4 journal behind the syncs under way (a CPU
 * profile of the import); that thread is the one encoding the rows, so it was 1.2 s of the import.
 *
 * The bytes go through a ring in shared memory (RING_BYTES): `write` copies them in and posts
 * where they are, and waits while the ring is full; the thread writes from the ring and releases
 * the space. Sent as a transferred copy each, the shards left up to 60 MB of garbage in the
 * thread between its collections (peak RSS of a 200 MB import 267-296 MB against 231 MB); a
 * blob bigger than half the ring still goes that way. Nothing is acknowledged to anyone before
 * the batch's commit, which drains the writer first: a failed write fails the commit. The thread
 * lives from the batch's first put to its commit or abort (drain ends it).
 */
import { Worker } from 'node:worker_threads';
import { waitChange } from '../atomics.ts';

/** Fields of the shared state: bytes of the ring released (wrapping int32); 1 once aborted. */
const RELEASED = 0;
const ABORTED = 1;
/** The ring's size: a few hundred shards of tabular data. */
const RING_BYTES = 4 << 20;

export class BlobWriter {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private readonly ring = new Uint8Array(new SharedArrayBuffer(RING_BYTES));
  /** Bytes of the ring taken so far (exact; the thread releases them in the same order). */
  private head = 0;
  private failure: Error | null = null;
  private drained: Promise<void> | null = null;

  constructor() {
    this.worker = new Worker(new URL('./blob-writer-worker.mjs', import.meta.url), {
      workerData: { state: this.state.buffer, ring: this.ring.buffer },
      // It holds a few small messages at a time: small heaps keep its share of an import's
      // memory small.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24 },
    });
    this.worker.on('error', (e) => {
      this.failure ??= e;
    });
  }

  /** Sends `bytes` (copied: the caller may reuse them) to be written at `path` and synced. */
  async write(path: string, bytes: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    if (bytes.byteLength > RING_BYTES / 2) {
      const copy = bytes.slice();
      this.worker.postMessage({ op: 'write', path, bytes: copy }, [copy.buffer]);
      return;
    }
    // A record never wraps: one that would is put at the ring's start, the end left unused.
    const at = this.head % RING_BYTES;
    const skip = at + bytes.byteLength > RING_BYTES ? RING_BYTES - at : 0;
    const span = skip + bytes.byteLength;
    for (;;) {
      const released = Atomics.load(this.state, RELEASED);
      const used = ((this.head | 0) - released) | 0;
      if (used + span <= RING_BYTES) break;
      if (this.failure) throw this.failure;
      await waitChange(this.state, RELEASED, released, 100);
    }
    const start = skip > 0 ? 0 : at;
    this.ring.set(bytes, start);
    this.head += span;
    this.worker.postMessage({ op: 'write', path, at: start, length: bytes.byteLength, span });
  }

  /** Resolves once every file sent is written and synced; throws the first failure. Ends the thread. */
  drain(): Promise<void> {
    this.drained ??= this.finish();
    return this.drained;
  }

  /** Skips the writes not yet done and waits for the thread to end (the caller removes the files). */
  async abort(): Promise<void> {
    Atomics.store(this.state, ABORTED, 1);
    await this.drain().catch(() => {});
  }

  private async finish(): Promise<void> {
    try {
      const reply = await new Promise<{ error: { message: string; code?: string } | null }>(
        (resolve, reject) => {
          this.worker.once('message', resolve);
          this.worker.once('error', reject);
          this.worker.once('exit', () => reject(this.failure ?? new Error('the blob writer thread ended')));
          this.worker.postMessage({ op: 'drain' });
        },
      );
      if (reply.error) {
        const e = new Error(`writing a blob: ${reply.error.message}`) as NodeJS.ErrnoException;
        if (reply.error.code) e.code = reply.error.code;
        this.failure ??= e;
      }
    } finally {
      await this.worker.terminate();
    }
    if (this.failure) throw this.failure;
  }
}
