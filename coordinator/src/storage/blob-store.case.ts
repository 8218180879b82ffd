/** The shared BlobStore suite: the file store and the PostgreSQL store run the same cases. */
import { describe, expect, it } from 'vitest';
import { type BlobStore, sha256 } from './blob-store.ts';

/** `open` returns a store over the same blobs every time it is called (a reopen). */
export function blobStoreSuite(name: string, open: () => Promise<BlobStore>) {
  describe(`BlobStore: ${name}`, () => {
    it('stores bytes under their sha256 and reads them back after reopening', async () => {
      const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
      const store = await open();
      const hash = await store.put(bytes);
      expect(hash).toBe(sha256(bytes));
      expect(await store.put(bytes.slice())).toBe(hash); // a second put of the same bytes is a no-op
      const reopened = await open();
      expect(await reopened.has(hash)).toBe(true);
      expect(Array.from((await reopened.get(hash))!)).toEqual(Array.from(bytes));
    });

    it('reads back a view into a larger buffer as exactly its bytes', async () => {
      const backing = Uint8Array.from({ length: 64 }, (_, i) => i);
      const view = backing.subarray(8, 24);
      const store = await open();
      const hash = await store.put(view);
      expect(Array.from((await store.get(hash))!)).toEqual(Array.from(view));
    });

    it('names a large blob (hashed in pieces between turns of the loop) by its sha256, a view of it too', async () => {
      const backing = Uint8Array.from({ length: 3 << 20 }, (_, i) => (i * 7) % 253);
      const view = backing.subarray(5, (2 << 20) + 5);
      const store = await open();
      const hash = await store.put(view);
      expect(hash).toBe(sha256(view));
      const back = (await store.get(hash))!;
      expect([back.byteLength, sha256(back)]).toEqual([view.byteLength, hash]);
    });

    it('answers null for unknown hashes and refuses paths that are not hashes', async () => {
      const store = await open();
      expect(await store.get('0'.repeat(64))).toBeNull();
      expect(await store.has('0'.repeat(64))).toBe(false);
      expect(await store.get('../../etc/passwd')).toBeNull();
      expect(await store.has('../x')).toBe(false);
    });

    it('deletes a blob, sizes and lists what is kept', async () => {
      const store = await open();
      const a = await store.put(Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256));
      const b = await store.put(Uint8Array.from({ length: 20 }, (_, i) => i + 100));
      expect(await store.size(a)).toBe(300);
      const listed = new Map<string, number>();
      for await (const e of store.list()) listed.set(e.hash, e.bytes);
      expect(listed.get(a)).toBe(300);
      expect(listed.get(b)).toBe(20);
      expect(await store.delete(a)).toBe(300);
      expect(await store.delete(a)).toBe(0);
      expect(await store.has(a)).toBe(false);
      expect(await store.size(a)).toBeNull();
      expect(await store.delete('../x')).toBe(0);
      const after = new Set<string>();
      for await (const e of store.list()) after.add(e.hash);
      expect(after.has(a)).toBe(false);
      expect(after.has(b)).toBe(true);
    });
  });
}
