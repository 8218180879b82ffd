/**
 * What encryption at rest promises, over any raw store beneath it (files, PostgreSQL): stored
 * bytes hold no plaintext, a wrong key refuses to open, tampering is refused, and a blob sealed
 * under an old key reads before and after `rotate`.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobStoreSuite } from './blob-store.case.ts';
import type { RawBlobStore } from './blob-store.ts';
import { type DataKeys, parseDataKey } from './data-key.ts';
import {
  BlobIntegrityError,
  DataKeyError,
  EncryptedBlobStore,
  KEY_CHECK_NAME,
  SEAL_OVERHEAD,
} from './encrypted-blob-store.ts';
import { encryptIfKeyed } from './open.ts';

export const newKey = () => randomBytes(32).toString('base64');
export const keys = (current: string, ...previous: string[]): DataKeys => ({
  current: parseDataKey(current, 'DATA_KEY'),
  previous: previous.map((p) => parseDataKey(p, 'DATA_KEY_PREVIOUS')),
});

/** A recognisable plaintext: if any 32-byte run of it shows in stored bytes, encryption leaked. */
const plaintext = (n: number) =>
  new TextEncoder().encode('GridTab secret shard row; '.repeat(Math.ceil(n / 26))).slice(0, n);
const contains = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).includes(Buffer.from(needle));

/** `openRaw` returns a raw store over the same blobs each call; `fresh` one over new, empty storage. */
export function encryptedBlobStoreSuite(
  name: string,
  openRaw: () => Promise<RawBlobStore>,
  fresh: () => Promise<RawBlobStore>,
) {
  const key = newKey();
  blobStoreSuite(`${name}, encrypted`, async () => EncryptedBlobStore.open(await openRaw(), keys(key)));

  describe(`EncryptedBlobStore over ${name}`, () => {
    it('stores no plaintext: the stored bytes are the sealed form, named by the plaintext hash', async () => {
      const raw = await fresh();
      const store = await EncryptedBlobStore.open(raw, keys(newKey()));
      const bytes = plaintext(5000);
      const hash = await store.put(bytes);
      const stored = (await raw.get(hash))!;
      expect(stored.length).toBe(bytes.length + SEAL_OVERHEAD);
      expect(Buffer.from(stored.subarray(0, 4)).toString()).toBe('GTEB');
      expect(contains(stored, bytes.subarray(0, 32))).toBe(false);
      expect(contains(stored, bytes.subarray(2000, 2032))).toBe(false);
      expect(Buffer.from((await store.get(hash))!).equals(Buffer.from(bytes))).toBe(true);
      // The same bytes under the same key, stored twice, differ (a fresh nonce each time).
      const other = await fresh();
      const k = keys(newKey());
      await (await EncryptedBlobStore.open(other, k)).put(bytes);
      const first = Buffer.from((await other.get(hash))!);
      await other.delete(hash);
      await (await EncryptedBlobStore.open(other, k)).put(bytes);
      expect(first.equals(Buffer.from((await other.get(hash))!))).toBe(false);
    });

    it('refuses to open with a wrong key, and without a key once encrypted', async () => {
      const raw = await fresh();
      const right = newKey();
      await (await EncryptedBlobStore.open(raw, keys(right))).put(plaintext(100));
      await expect(EncryptedBlobStore.open(raw, keys(newKey()))).rejects.toThrow(DataKeyError);
      await expect(EncryptedBlobStore.open(raw, keys(newKey()))).rejects.toThrow(
        /DATA_KEY does not open this blob store/,
      );
      await expect(encryptIfKeyed(raw, null)).rejects.toThrow(/encrypted .* DATA_KEY is not set/);
      // The key check is no blob to callers.
      const store = await EncryptedBlobStore.open(raw, keys(right));
      expect(await store.has(KEY_CHECK_NAME)).toBe(false);
      expect(await store.get(KEY_CHECK_NAME)).toBeNull();
      expect(await store.delete(KEY_CHECK_NAME)).toBe(0);
      for await (const e of store.list()) expect(e.hash).not.toBe(KEY_CHECK_NAME);
    });

    it('refuses tampered ciphertext, a tampered header and a blob moved to another name', async () => {
      const raw = await fresh();
      const store = await EncryptedBlobStore.open(raw, keys(newKey()));
      const a = await store.put(plaintext(400));
      const b = await store.put(plaintext(300));
      const sealed = (await raw.get(a))!;
      const flipped = Uint8Array.from(sealed);
      flipped[SEAL_OVERHEAD + 10] ^= 1;
      await raw.write(a, flipped);
      await expect(store.get(a)).rejects.toThrow(BlobIntegrityError);
      const badNonce = Uint8Array.from(sealed);
      badNonce[12] ^= 0x80;
      await raw.write(a, badNonce);
      await expect(store.get(a)).rejects.toThrow(/fails authentication/);
      await raw.write(b, sealed); // a's ciphertext under b's name
      await expect(store.get(b)).rejects.toThrow(BlobIntegrityError);
    });

    it('reads blobs sealed under DATA_KEY_PREVIOUS, and after rotate-key needs only the new key', async () => {
      const raw = await fresh();
      const oldKey = newKey();
      const before = await EncryptedBlobStore.open(raw, keys(oldKey));
      const blobs = [plaintext(1000), plaintext(37), plaintext(0)];
      const hashes = await Promise.all(blobs.map((b) => before.put(b)));
      const newK = newKey();
      // The new key alone does not open a store sealed under the old one.
      await expect(EncryptedBlobStore.open(raw, keys(newK))).rejects.toThrow(DataKeyError);
      const during = await EncryptedBlobStore.open(raw, keys(newK, oldKey));
      expect(Buffer.from((await during.get(hashes[0]))!).equals(Buffer.from(blobs[0]))).toBe(true);
      const written = await during.put(plaintext(2000)); // new blobs take the new key at once
      expect(await during.rotate()).toEqual({ rewritten: 3, current: 1 });
      expect(await during.rotate()).toEqual({ rewritten: 0, current: 4 }); // a rerun has nothing left
      const after = await EncryptedBlobStore.open(raw, keys(newK));
      for (const [i, h] of hashes.entries())
        expect(Buffer.from((await after.get(h))!).equals(Buffer.from(blobs[i]))).toBe(true);
      expect((await after.get(written))!.length).toBe(2000);
      // The old key no longer opens it: everything, key check included, is under the new one.
      await expect(EncryptedBlobStore.open(raw, keys(oldKey))).rejects.toThrow(DataKeyError);
    });

    it('reads blobs stored before encryption was on, and rotate-key seals them', async () => {
      const raw = await fresh();
      const bytes = plaintext(800);
      const legacy = await raw.put(bytes);
      const store = await EncryptedBlobStore.open(raw, keys(newKey()));
      expect(Buffer.from((await store.get(legacy))!).equals(Buffer.from(bytes))).toBe(true);
      expect(await store.rotate()).toEqual({ rewritten: 1, current: 0 });
      expect(contains((await raw.get(legacy))!, bytes.subarray(0, 32))).toBe(false);
      expect(Buffer.from((await store.get(legacy))!).equals(Buffer.from(bytes))).toBe(true);
      // An unsealed blob that is not what its name says is refused, not served.
      await raw.write(legacy, plaintext(801));
      await expect(store.get(legacy)).rejects.toThrow(BlobIntegrityError);
    });
  });
}
