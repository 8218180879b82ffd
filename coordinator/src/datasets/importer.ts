/**
 * The contract between a file format and the dataset registry. An importer reads an uploaded
 * file that was already spooled to disk (never the whole file in memory), checks its quality,
 * and writes the version's shards into the blob store as it goes. It returns the version's
 * content; the registry (registry.ts) gives it a name, a number and a parent, deduplicates it
 * by content hash and records it. On any refusal the importer throws a GridTabError whose
 * message names the place (file, row, column, entry). The registry hands the importer a blob
 * store that records every put, and collects those no version references after a failure, so
 * a failed import leaves nothing behind.
 */
import type { DatasetFormat, MissingPolicy, TaskKind } from '@gridtab/shared';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord } from '../storage/store.ts';
import type { ParseParallelism } from './import/csv-segments.ts';

export interface ImportOptions {
  /** CSV, TSV, Parquet: the label column (default: the last column). */
  label?: string;
  /** Default: classification for a non-numeric or small-integer label, else regression. */
  task?: TaskKind;
  /** CSV, TSV, Parquet: feature columns to treat as categorical (one-hot), beside non-numeric ones. */
  categorical?: string[];
  missing?: MissingPolicy;
  /** Images: the size every image is resized to, and its channels. */
  width?: number;
  height?: number;
  channels?: 1 | 3;
  /** Rows per training shard. */
  shardSize?: number;
  /** Hash split when the file has none: seed and test fraction. */
  seed?: number;
  testFraction?: number;
  /** Column (tabular) whose value `test` marks test rows, when the file has its own split. */
  splitColumn?: string;
}

export interface ImportInput {
  /** The spooled upload on local disk. */
  path: string;
  /** The name the uploader gave the file (for messages and the version's source). */
  fileName: string;
  format: DatasetFormat;
  options: ImportOptions;
}

export interface ImportProgress {
  /** Bytes of the file read so far, and in all. */
  bytesRead: number;
  bytesTotal: number;
  rows: number;
}

export interface ImportDeps {
  blobs: BlobStore;
  /** Aborts the import (a cancelled upload, a shutdown): the importer throws as soon as it sees it. */
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /** How a large CSV or TSV file's parse is spread over threads (default: over the cores). */
  parallelism?: ParseParallelism;
}

/** What an import produces: everything of the version but its identity and provenance. */
export type ImportedContent = Omit<
  DatasetRecord,
  'id' | 'name' | 'version' | 'parent' | 'source' | 'createdAt'
>;

export type Importer = (input: ImportInput, deps: ImportDeps) => Promise<ImportedContent>;
