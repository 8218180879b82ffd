import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBlobStore, sha256 } from './blob-store.ts';

describe('FileBlobStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-blobs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores bytes under their sha256 and reads them back after reopening', async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    const hash = await (await FileBlobStore.open(dir)).put(bytes);
    expect(hash).toBe(sha256(bytes));
    const reopened = await FileBlobStore.open(dir);
    expect(await reopened.has(hash)).toBe(true);
    expect(Array.from((await reopened.get(hash))!)).toEqual(Array.from(bytes));
  });

  it('answers null for unknown hashes and refuses paths that are not hashes', async () => {
    const store = await FileBlobStore.open(dir);
    expect(await store.get('0'.repeat(64))).toBeNull();
    expect(await store.get('../../etc/passwd')).toBeNull();
    expect(await store.has('../x')).toBe(false);
  });
});
