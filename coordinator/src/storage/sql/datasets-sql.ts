/** Dataset versions' records: the statements both stores run. */
import type { DatasetRecord } from '../store.ts';
import { placeholders } from './statement.ts';

export const DATASETS_SQL = {
  /** A record is written again when an import finishes (same id): the row takes its new values. */
  putDataset: `INSERT INTO datasets (id, name, version, hash, meta, created_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version, hash = excluded.hash, meta = excluded.meta`,
  getDataset: 'SELECT * FROM datasets WHERE id = ?',
  listDatasets: 'SELECT * FROM datasets ORDER BY id',
  listDatasetVersions: 'SELECT * FROM datasets WHERE name = ? ORDER BY version',
  deleteDataset: 'DELETE FROM datasets WHERE id = ?',
} as const;

/** The datasets row of a record: identity and hash as columns, the rest as meta JSON. */
export function datasetValues(d: DatasetRecord): [string, string, number, string, string, string] {
  const { id, name, createdAt, ...meta } = d;
  return [id, name, d.version, d.hash, JSON.stringify(meta), createdAt];
}

/**
 * The blobs among `hashes` that a model version, an update or an imported model names, and its
 * parameters (the list once per column).
 */
export function blobsInUse(hashes: string[]): { sql: string; params: string[] } {
  const list = placeholders(hashes.length);
  const sql = [
    `SELECT hash AS h FROM versions WHERE hash IN (${list})`,
    `SELECT state_hash AS h FROM versions WHERE state_hash IN (${list})`,
    `SELECT blob_hash AS h FROM updates WHERE blob_hash IN (${list})`,
    `SELECT hash AS h FROM imported_versions WHERE hash IN (${list})`,
    `SELECT topology_hash AS h FROM imported_versions WHERE topology_hash IN (${list})`,
  ].join(' UNION ');
  return { sql, params: Array.from({ length: 5 }, () => hashes).flat() };
}
