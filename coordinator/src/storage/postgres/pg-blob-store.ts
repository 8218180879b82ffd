/**
 * Blobs in PostgreSQL, for the shared-store mode: every coordinator process reads the weights,
 * shards and updates any other one wrote. Content-addressed like FileBlobStore; an insert of a
 * hash already there does nothing, and a row is whole once its INSERT commits, so a crash
 * leaves a blob whole or absent.
 */
import { HASH_PATTERN } from '@gridtab/shared';
import type pg from 'pg';
import { type RawBlobStore, sha256Async } from '../blob-store.ts';
import { transaction } from './pg-tx.ts';

const BLOB_TABLE_LOCK = 7_246_002;

export class PgBlobStore implements RawBlobStore {
  private constructor(private readonly pool: pg.Pool) {}

  /**
   * The blobs table is not in the shared migration list: its BYTEA column has no portable SQLite
   * twin, and the embedded mode keeps blobs in files.
   */
  static async open(pool: pg.Pool): Promise<PgBlobStore> {
    await transaction(pool, async (client) => {
      // CREATE TABLE IF NOT EXISTS can still collide when two processes run it at once.
      await client.query('SELECT pg_advisory_xact_lock($1)', [BLOB_TABLE_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS blobs (hash TEXT PRIMARY KEY, bytes BYTEA NOT NULL)');
    });
    return new PgBlobStore(pool);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = await sha256Async(bytes);
    await this.pool.query('INSERT INTO blobs (hash, bytes) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING', [
      hash,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    ]);
    return hash;
  }

  async write(hash: string, bytes: Uint8Array): Promise<void> {
    if (!HASH_PATTERN.test(hash)) throw new Error(`not a blob name: ${hash}`);
    // One statement: the row holds the old bytes or the new ones, never a mix.
    await this.pool.query(
      'INSERT INTO blobs (hash, bytes) VALUES ($1, $2) ON CONFLICT (hash) DO UPDATE SET bytes = EXCLUDED.bytes',
      [hash, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)],
    );
  }

  async get(hash: string): Promise<Uint8Array | null> {
    if (!HASH_PATTERN.test(hash)) return null;
    const row = (await this.pool.query('SELECT bytes FROM blobs WHERE hash = $1', [hash])).rows[0] as
      | { bytes: Buffer }
      | undefined;
    return row ? new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength) : null;
  }

  async has(hash: string): Promise<boolean> {
    if (!HASH_PATTERN.test(hash)) return false;
    return (await this.pool.query('SELECT 1 FROM blobs WHERE hash = $1', [hash])).rowCount === 1;
  }

  async delete(hash: string): Promise<number> {
    if (!HASH_PATTERN.test(hash)) return 0;
    const row = (
      await this.pool.query('DELETE FROM blobs WHERE hash = $1 RETURNING length(bytes) AS n', [hash])
    ).rows[0] as { n: number } | undefined;
    return row ? Number(row.n) : 0;
  }

  async size(hash: string): Promise<number | null> {
    if (!HASH_PATTERN.test(hash)) return null;
    const row = (await this.pool.query('SELECT octet_length(bytes) AS n FROM blobs WHERE hash = $1', [hash]))
      .rows[0] as { n: number } | undefined;
    return row ? Number(row.n) : null;
  }

  async *list(): AsyncIterable<{ hash: string; bytes: number }> {
    const rows = (await this.pool.query('SELECT hash, octet_length(bytes) AS n FROM blobs')).rows as {
      hash: string;
      n: number;
    }[];
    for (const r of rows) yield { hash: r.hash, bytes: Number(r.n) };
  }
}
