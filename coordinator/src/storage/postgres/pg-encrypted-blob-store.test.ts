import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { encryptedBlobStoreSuite } from '../encrypted-blob-store.case.ts';
import { PgBlobStore } from './pg-blob-store.ts';
import { createTestDatabase, type TestDatabase, testPool } from './test-db.ts';

// One database for the shared suite's reopens, and a new one per `fresh` store.
const dbs: TestDatabase[] = [];
const pools: pg.Pool[] = [];
let sharedUrl = '';
beforeAll(async () => {
  const db = await createTestDatabase();
  dbs.push(db);
  sharedUrl = db.url;
});
afterAll(async () => {
  for (const p of pools) await p.end();
  for (const db of dbs) await db.drop();
});

const poolFor = (url: string) => {
  const pool = testPool(url);
  pools.push(pool);
  return pool;
};

encryptedBlobStoreSuite(
  'PostgreSQL',
  () => PgBlobStore.open(poolFor(sharedUrl)),
  async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    return PgBlobStore.open(poolFor(db.url));
  },
);
