/**
 * DatasetRegistry on a real embedded store, blob folder and CSV importer: what an interrupted
 * import leaves (nothing after the start-up sweep), an aborted upload, and two uploads of the
 * same content at once.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadableStream } from 'node:stream/web';
import { GridTabError } from '@gridtab/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { type BlobStore, FileBlobStore } from '../storage/blob-store.ts';
import { SqliteStore } from '../storage/sqlite-store.ts';
import { importFile } from './import/index.ts';
import { PENGUIN_COLUMNS, penguins, toDelimited } from './import/test-data.ts';
import { DatasetRegistry, type ImportRequest } from './registry.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `onPut` sees every blob written, with how many came before (to abort mid-import). */
async function setup(onPut?: (n: number) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'gridtab-datasets-'));
  dirs.push(dir);
  const store = new SqliteStore(join(dir, 'store.sqlite'));
  const files = await FileBlobStore.open(join(dir, 'blobs'));
  let puts = 0;
  const blobs: BlobStore = {
    put: async (bytes) => {
      onPut?.(puts++);
      return files.put(bytes);
    },
    get: (h) => files.get(h),
    has: (h) => files.has(h),
    delete: (h) => files.delete(h),
    size: (h) => files.size(h),
    list: () => files.list(),
  };
  const logs: string[] = [];
  const registry = new DatasetRegistry({
    store,
    blobs,
    clock: { now: () => Date.now() },
    importer: importFile,
    dataDir: dir,
    maxBytes: 1 << 20,
    log: (m) => logs.push(m),
  });
  const blobFiles = () =>
    readdirSync(join(dir, 'blobs'), { recursive: true, withFileTypes: true }).filter(
      (e) => e.isFile() && !e.parentPath.endsWith('tmp'),
    ).length;
  return { dir, store, blobs, registry, logs, blobFiles };
}

const csv = toDelimited(
  penguins().filter((r) => r.Species !== null),
  PENGUIN_COLUMNS,
);
const request: ImportRequest = {
  format: 'csv',
  options: { label: 'Species', missing: 'impute', shardSize: 16 },
  rawOptions: { label: 'Species' },
  fileName: 'penguins.csv',
  importedBy: 'test',
};

/** The file as a stream of small chunks; `onChunk` runs before each one is handed over. */
function chunked(text: string, onChunk: (i: number) => void = () => {}) {
  const bytes = new TextEncoder().encode(text);
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i * 1024 >= bytes.length) return controller.close();
      onChunk(i);
      controller.enqueue(bytes.subarray(i * 1024, (i + 1) * 1024));
      i++;
    },
  });
}

describe('DatasetRegistry', () => {
  it('removes uploads an interrupted import left spooled, and only those, at start-up', async () => {
    const { dir, registry, logs } = await setup();
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'tmp', 'import-left-by-a-kill'), csv);
    writeFileSync(join(dir, 'tmp', 'someone-elses'), 'x');
    await registry.init();
    expect(readdirSync(join(dir, 'tmp'))).toEqual(['someone-elses']);
    expect(logs.join('\n')).toMatch(/removed 1 upload/);
  });

  it('an upload aborted mid-body stores no version, blob or spooled file', async () => {
    const { dir, registry, store, blobFiles } = await setup();
    await registry.init();
    const abort = new AbortController();
    const body = chunked(csv, (i) => {
      if (i === 3) abort.abort(new GridTabError('BAD_REQUEST', 'the upload was cancelled'));
    });
    await expect(registry.import('penguins', body, { ...request, signal: abort.signal })).rejects.toThrow();
    expect(await store.listDatasets()).toEqual([]);
    expect(blobFiles()).toBe(0);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('an import aborted after it wrote shards removes them', async () => {
    const abort = new AbortController();
    let seen = 0;
    const { dir, registry, store, blobFiles } = await setup((n) => {
      seen = n;
      // Three shards are on disk when the shutdown comes.
      if (n === 3) abort.abort(new GridTabError('BAD_REQUEST', 'shutting down'));
    });
    await registry.init();
    await expect(
      registry.import('penguins', chunked(csv), { ...request, signal: abort.signal }),
    ).rejects.toThrow();
    expect(seen).toBeGreaterThanOrEqual(3);
    expect(await store.listDatasets()).toEqual([]);
    expect(blobFiles()).toBe(0);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('two uploads of the same content at once make one version', async () => {
    const { registry, store } = await setup();
    await registry.init();
    const [a, b] = await Promise.all([
      registry.import('penguins', chunked(csv), request),
      registry.import('penguins', chunked(csv), request),
    ]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.record.id).toBe('penguins@1');
    expect(b.record.id).toBe('penguins@1');
    expect((await store.listDatasetVersions('penguins')).length).toBe(1);
  });

  it('refuses a bad name before reading the body', async () => {
    const { registry, blobFiles } = await setup();
    await expect(registry.import('Penguins!', chunked(csv), request)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(blobFiles()).toBe(0);
  });
});
