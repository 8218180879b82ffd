import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.ts';
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

describe('lazy batches (join rows)', () => {
  it('commit without an fsync and put synchronous = FULL back for every other write', async () => {
    const store = new SqliteStore(join(dir, 'lazy.sqlite'));
    const db = (store as unknown as { db: { raw: Database.Database } }).db.raw;
    const synchronous = () => db.pragma('synchronous', { simple: true });
    expect(synchronous()).toBe(2); // FULL
    await store.upsertContributors([{ clientId: 'a', backend: null, now: 't' }]);
    expect(synchronous()).toBe(2);
    // Also when the batch fails and rolls back.
    await expect(
      store.upsertContributors([{ clientId: null as unknown as string, backend: null, now: 't' }]),
    ).rejects.toThrow();
    expect(synchronous()).toBe(2);
    await store.close();
  });
});

describe('migration 8', () => {
  it('numbers dataset rows written before it as version 1, or as their meta says', async () => {
    const old = join(dir, 'before-8.sqlite');
    const db = new Database(old);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)');
    for (const m of MIGRATIONS.filter((m) => m.version < 8)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version) VALUES (?)').run(m.version);
    }
    // The first Fashion-MNIST import: bare id, no version or hash in its meta.
    const legacy = { inputShape: [28, 28, 1], numClasses: 10, numTrain: 5, numTest: 1, shardSize: 5 };
    const insert = db.prepare('INSERT INTO datasets (id, name, meta, created_at) VALUES (?, ?, ?, ?)');
    insert.run(
      'fashion-mnist',
      'fashion-mnist',
      JSON.stringify({ ...legacy, shardHashes: [], testHash: 'e'.repeat(64) }),
      't',
    );
    insert.run('cars@2', 'cars', JSON.stringify({ version: 2, hash: 'd'.repeat(64) }), 't');
    db.close();
    const store = new SqliteStore(old);
    try {
      expect((await store.listDatasetVersions('fashion-mnist')).map((d) => [d.id, d.version])).toEqual([
        ['fashion-mnist', 1],
      ]);
      const raw = new Database(old, { readonly: true });
      expect(raw.prepare('SELECT id, version, hash FROM datasets ORDER BY id').all()).toEqual([
        { id: 'cars@2', version: 2, hash: 'd'.repeat(64) },
        { id: 'fashion-mnist', version: 1, hash: null },
      ]);
      raw.close();
    } finally {
      await store.close();
    }
  });
});
