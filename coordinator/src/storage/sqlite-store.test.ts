import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from './sqlite-store.ts';
import { storeSuite } from './store.case.ts';

const dir = mkdtempSync(join(tmpdir(), 'gridtab-sqlite-'));
const file = join(dir, 'store.sqlite');
let current: SqliteStore | null = null;
afterAll(() => {
  current?.close();
  rmSync(dir, { recursive: true, force: true });
});

storeSuite(
  'embedded SQLite',
  () => (current ??= new SqliteStore(file)),
  () => (current = new SqliteStore(file)),
);
