import { afterAll, beforeAll } from 'vitest';
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
