/**
 * A fresh PostgreSQL database per test file, dropped afterwards. Tests connect as postgres to
 * TEST_DATABASE_URL's server (default: 127.0.0.1:5432, the machines this project runs on).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const SERVER = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `gridtab_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: SERVER });
      await client.connect();
      try {
        // WITH (FORCE) ends connections a test left open (PostgreSQL 13+).
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A pool for a test database. drop() ends any connection still open (WITH FORCE), and pg reports
 * that on the pool as an 'error' event: without a listener it would be an uncaught exception in
 * whichever test file runs at that moment.
 */
export function testPool(url: string, max = 2): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => {});
  return pool;
}
