import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { blobStoreSuite } from './blob-store.case.ts';
import { FileBlobStore } from './blob-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'gridtab-blobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

blobStoreSuite('files', () => FileBlobStore.open(dir));
