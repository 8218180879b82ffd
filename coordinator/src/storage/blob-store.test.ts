import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blobStoreSuite } from './blob-store.case.ts';
import { FileBlobStore, sha256 } from './blob-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'gridtab-blobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

blobStoreSuite('files', () => FileBlobStore.open(dir));

describe('FileBlobStore batches', () => {
  const blob = (seed: number) => Uint8Array.from({ length: 5000 }, (_, i) => (i * seed + 3) % 256);

  it('makes nothing readable before commit, and every blob readable after it, also after reopening', async () => {
    const at = mkdtempSync(join(dir, 'batch-'));
    const store = await FileBlobStore.open(at);
    const batch = store.batch();
    const hashes = await Promise.all([1, 2, 3, 2].map((s) => batch.put(blob(s))));
    expect(hashes).toEqual([1, 2, 3, 2].map((s) => sha256(blob(s))));
    for (const h of hashes) expect(await store.has(h)).toBe(false);
    await batch.commit();
    const reopened = await FileBlobStore.open(at);
    for (const [i, h] of hashes.entries())
      expect(Array.from((await reopened.get(h))!)).toEqual(Array.from(blob([1, 2, 3, 2][i])));
    expect(readdirSync(join(at, 'tmp'))).toEqual([]);
    await expect(batch.put(blob(4))).rejects.toThrow(/closed/);
  });

  it('leaves no blob and no temporary file when aborted', async () => {
    const at = mkdtempSync(join(dir, 'batch-'));
    const store = await FileBlobStore.open(at);
    const kept = await store.put(blob(9));
    const batch = store.batch();
    const [a, b] = await Promise.all([batch.put(blob(5)), batch.put(blob(9))]);
    expect(b).toBe(kept);
    await batch.abort();
    expect(await store.has(a)).toBe(false);
    expect(await store.has(kept)).toBe(true);
    expect(readdirSync(join(at, 'tmp'))).toEqual([]);
  });

  it('writes more than its writer thread holds at once: every blob whole, a large one included', async () => {
    const at = mkdtempSync(join(dir, 'batch-'));
    const store = await FileBlobStore.open(at);
    const batch = store.batch();
    // 2,000 blobs of 5,000 bytes (10 MB) pass a 4 MiB ring several times over; 3 MB is over half
    // of it, so it goes to the writer on its own.
    const seeds = Array.from({ length: 2000 }, (_, i) => i + 1);
    const big = Uint8Array.from({ length: 3 << 20 }, (_, i) => (i * 7) % 251);
    const hashes: string[] = [];
    for (const s of seeds) hashes.push(await batch.put(blob(s)));
    const bigHash = await batch.put(big);
    await batch.commit();
    for (const [i, h] of hashes.entries()) expect(await store.get(h)).toEqual(blob(seeds[i]));
    expect(await store.get(bigHash)).toEqual(big);
    expect(readdirSync(join(at, 'tmp'))).toEqual([]);
  });

  it('fails the commit when a write fails, and an abort then leaves nothing behind', async () => {
    const at = mkdtempSync(join(dir, 'batch-'));
    const store = await FileBlobStore.open(at);
    rmSync(join(at, 'tmp'), { recursive: true }); // the writer's files have nowhere to go
    const batch = store.batch();
    const hash = await batch.put(blob(7));
    await expect(batch.commit()).rejects.toMatchObject({
      code: 'ENOENT',
      message: expect.stringMatching(/^writing a blob/),
    });
    await batch.abort();
    expect(await store.has(hash)).toBe(false);
  });

  it("removes a dead process's temporary files when opened, not a live one's", async () => {
    const at = mkdtempSync(join(dir, 'batch-'));
    await FileBlobStore.open(at);
    const hash = sha256(blob(1));
    // Process ids are below 2^22 on Linux; this one cannot be running.
    writeFileSync(join(at, 'tmp', `${hash}.${2 ** 30}.abc`), blob(1));
    writeFileSync(join(at, 'tmp', `${hash}.${process.pid}.def`), blob(1));
    await FileBlobStore.open(at);
    expect(readdirSync(join(at, 'tmp'))).toEqual([`${hash}.${process.pid}.def`]);
  });
});
