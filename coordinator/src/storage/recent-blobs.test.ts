/**
 * Blobs kept in memory in front of the store: served without a read once remembered or read, as
 * the bytes stored (a caller changing what it gave or got changes nothing kept), within the byte
 * budget, and gone once deleted; a plain put keeps nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BlobStore, FileBlobStore } from './blob-store.ts';
import { RecentBlobs } from './recent-blobs.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A file store whose reads are counted, each handed over once `after` (if any) settles. */
async function counted(after?: () => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-recent-'));
  dirs.push(dir);
  const files = await FileBlobStore.open(dir);
  let reads = 0;
  const store: BlobStore = Object.assign(Object.create(files), {
    get: async (hash: string) => {
      reads++;
      const read = await files.get(hash);
      await after?.();
      return read;
    },
  });
  return { store, files, reads: () => reads };
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

describe('RecentBlobs', () => {
  it('serves what it was told to remember without reading the store, as it was stored', async () => {
    const { store, reads } = await counted();
    const blobs = new RecentBlobs(store, 1 << 20);
    const put = bytes(1000, 7);
    const hash = await blobs.put(put);
    blobs.remember(hash, put);
    put.fill(0); // the caller reuses its array
    const got = await blobs.get(hash);
    expect(got).toEqual(bytes(1000, 7));
    got!.fill(1); // and changes what it got
    expect(await blobs.peek(hash)).toEqual(bytes(1000, 7));
    expect(await blobs.size(hash)).toBe(1000);
    expect(await blobs.has(hash)).toBe(true);
    expect(reads()).toBe(0);
    // A plain put (an update, read once if ever) is not kept: its first read goes to the store.
    const update = await blobs.put(bytes(500, 9));
    expect(await blobs.get(update)).toEqual(bytes(500, 9));
    expect(reads()).toBe(1);
  });

  it('reads a blob it does not hold once, and keeps it within its budget', async () => {
    const { store, files, reads } = await counted();
    const a = await files.put(bytes(600, 1));
    const b = await files.put(bytes(600, 2));
    const blobs = new RecentBlobs(store, 1000);
    expect(await blobs.get(a)).toEqual(bytes(600, 1));
    expect(await blobs.get(a)).toEqual(bytes(600, 1));
    expect(reads()).toBe(1);
    // b pushes a out: 1,200 bytes do not fit 1,000.
    expect(await blobs.get(b)).toEqual(bytes(600, 2));
    expect(await blobs.get(a)).toEqual(bytes(600, 1));
    expect(reads()).toBe(3);
    expect(await blobs.get('0'.repeat(64))).toBeNull();
  });

  it('forgets a deleted blob, and a read in flight during the delete keeps nothing', async () => {
    // Each read, once done, waits for the test to let it answer.
    let readDone = () => {};
    let answer = () => {};
    const { store, files } = await counted(
      () =>
        new Promise<void>((resolve) => {
          answer = resolve;
          readDone();
        }),
    );
    const blobs = new RecentBlobs(store, 1 << 20);
    const hash = await blobs.put(bytes(100, 3));
    expect(await blobs.delete(hash)).toBe(100);
    expect(await blobs.has(hash)).toBe(false);
    const again = await files.put(bytes(100, 4));
    const read = new Promise<void>((resolve) => (readDone = resolve));
    const reading = blobs.get(again);
    await read;
    await blobs.delete(again);
    answer();
    expect(await reading).toEqual(bytes(100, 4)); // read before the delete landed
    const readAgain = new Promise<void>((resolve) => (readDone = resolve));
    const after = blobs.get(again);
    await readAgain; // the store's read: nothing there now
    answer();
    expect(await after).toBeNull(); // and nothing kept
  });
});
