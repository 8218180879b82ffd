import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobStoreSuite } from '../blob-store.case.ts';
import { storeSuite } from '../store.case.ts';
import { PgBlobStore } from './pg-blob-store.ts';
import { PgStore } from './pg-store.ts';
import { createTestDatabase, type TestDatabase } from './test-db.ts';

let db: TestDatabase;
const opened: PgStore[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const s of opened) await s.close();
  await db?.drop();
});

const open = async () => {
  const store = await PgStore.open(db.url);
  opened.push(store);
  return store;
};
let shared: PgStore | null = null;
const current = async () => {
  shared ??= await open();
  return shared;
};

storeSuite('PostgreSQL', current, async () => {
  shared = await open();
  return shared;
});
blobStoreSuite('PostgreSQL', async () => PgBlobStore.open((await open()).pool));

describe('PgStore when the server ends its connections', () => {
  it('keeps the process up and answers on a new connection', async () => {
    const store = await open();
    expect(await store.listJobs()).toEqual(expect.any(Array));
    // What a server restart or an administrator does to idle connections.
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const { rows } = await admin.query(
        'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    await new Promise((r) => setTimeout(r, 200)); // the pool hears of it (its 'error' event)
    expect(await store.listJobs()).toEqual(expect.any(Array));
  });
});
