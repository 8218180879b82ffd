/**
 * The dataset registry: names over immutable, numbered versions. An upload is spooled to disk
 * (streamed, hashed on the way, capped), handed to an importer (importer.ts), and recorded as
 * the next version of its name with the previous latest as parent; the same content as an
 * existing version of the name is that version, not a new one. A failed or aborted import, and
 * a deleted version, leave no blob that nothing references. Lineage reads the job records that
 * name a version and the model versions those jobs made.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  type DatasetFormat,
  type DatasetLineage,
  type DatasetSource,
  datasetNameSchema,
  formatDatasetRef,
  GridTabError,
  parseDatasetRef,
} from '@gridtab/shared';
import type { Clock } from '../clock.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { DatasetRecord, Store } from '../storage/store.ts';
import { versionHash } from './data-spec.ts';
import type { ParseParallelism } from './import/csv-segments.ts';
import type { ImportedContent, Importer, ImportOptions, ImportProgress } from './importer.ts';

/** Largest upload by default (GRIDTAB_DATASET_MAX_BYTES). */
export const DEFAULT_DATASET_MAX_BYTES = 1024 ** 3;

/** Spooled uploads are named so; anything so named at start-up is a killed import's leftover. */
const SPOOL_PREFIX = 'import-';

export interface DatasetRegistryDeps {
  store: Store;
  blobs: BlobStore;
  clock: Clock;
  importer: Importer;
  /** DATA_DIR: uploads are spooled to DATA_DIR/tmp. */
  dataDir: string;
  maxBytes: number;
  /** How a large CSV or TSV file's parse is spread over threads (default: over the cores). */
  parallelism?: ParseParallelism;
  log: (msg: string) => void;
  /** Import progress (bytes of the spooled file read, rows), e.g. for the console. */
  onProgress?: (name: string, p: ImportProgress) => void;
  /**
   * The coordinator's storage quota (usage/storage.ts): refuses with STORAGE_QUOTA when about
   * this many more bytes would not fit. Asked with the uploaded file's size, before any shard
   * is written.
   */
  checkQuota?: (bytes: number) => Promise<void>;
}

export interface ImportRequest {
  format: DatasetFormat;
  options: ImportOptions;
  /** The options as the uploader wrote them, kept in the version's source. */
  rawOptions: Record<string, string>;
  fileName: string;
  /** Who imported it (the token's label and role). */
  importedBy: string;
  /** Overrides the registry's cap for this upload. */
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface ImportResult {
  record: DatasetRecord;
  /** False when the content equals an existing version of the name, which is returned. */
  created: boolean;
}

export interface DeleteResult {
  id: string;
  blobsDeleted: number;
  bytesFreed: number;
}

export function checkDatasetName(name: string): void {
  const r = datasetNameSchema.safeParse(name);
  if (!r.success) throw new GridTabError('BAD_REQUEST', `'${name}': ${r.error.issues[0].message}`);
}

export class DatasetRegistry {
  /** Blobs written by imports still running, per hash: collection must not take them. */
  private readonly inFlight = new Map<string, number>();
  /** Per name, the tail of its record steps: numbering is one at a time in this process. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: DatasetRegistryDeps) {}

  private get spoolDir(): string {
    return join(this.deps.dataDir, 'tmp');
  }

  /** At start-up: removes uploads a killed coordinator left spooled. */
  async init(): Promise<void> {
    await fs.mkdir(this.spoolDir, { recursive: true });
    let removed = 0;
    for (const name of await fs.readdir(this.spoolDir)) {
      if (!name.startsWith(SPOOL_PREFIX)) continue;
      await fs.rm(join(this.spoolDir, name), { force: true });
      removed++;
    }
    if (removed) this.deps.log(`datasets: removed ${removed} upload(s) left by an interrupted import`);
  }

  async all(): Promise<DatasetRecord[]> {
    return this.deps.store.listDatasets();
  }

  async versions(name: string): Promise<DatasetRecord[]> {
    checkDatasetName(name);
    return this.deps.store.listDatasetVersions(name);
  }

  async version(name: string, version: number): Promise<DatasetRecord> {
    const found = (await this.versions(name)).find((d) => d.version === version);
    if (!found)
      throw new GridTabError('NOT_FOUND', `dataset ${formatDatasetRef(name, version)} does not exist`);
    return found;
  }

  /** Spools `body`, imports it and records it as the next version of `name` (see the module comment). */
  async import(
    name: string,
    body: WebReadableStream<Uint8Array> | null,
    req: ImportRequest,
  ): Promise<ImportResult> {
    checkDatasetName(name);
    if (!body) throw new GridTabError('BAD_REQUEST', 'the request has no body; send the file as the body');
    await fs.mkdir(this.spoolDir, { recursive: true });
    const path = join(this.spoolDir, `${SPOOL_PREFIX}${randomUUID()}`);
    const written = new Set<string>();
    try {
      const spooled = await this.spool(body, path, req.maxBytes ?? this.deps.maxBytes, req.signal);
      await this.deps.checkQuota?.(spooled.bytes);
      const content = await this.deps.importer(
        { path, fileName: req.fileName, format: req.format, options: req.options },
        {
          blobs: this.recording(written),
          signal: req.signal,
          onProgress: (p) => this.deps.onProgress?.(name, p),
          parallelism: this.deps.parallelism,
        },
      );
      req.signal?.throwIfAborted();
      const source: DatasetSource = {
        fileName: req.fileName,
        format: req.format,
        bytes: spooled.bytes,
        sha256: spooled.sha256,
        importedBy: req.importedBy,
        importedAt: this.now(),
        options: req.rawOptions,
      };
      return await this.record(name, content, source);
    } catch (e) {
      const { blobsDeleted } = await this.collect([...written], written).catch((err) => {
        this.deps.log(`datasets: collecting a failed import's blobs failed: ${(err as Error).message}`);
        return { blobsDeleted: 0 };
      });
      if (blobsDeleted)
        this.deps.log(`datasets: import of ${name} failed; removed ${blobsDeleted} blob(s) it wrote`);
      throw e;
    } finally {
      for (const h of written) this.release(h);
      await fs.rm(path, { force: true });
    }
  }

  /**
   * Records imported content as the next version of `name`, or returns the existing version
   * with the same content hash. The bootstrap's Fashion-MNIST import comes through here too.
   */
  async record(name: string, content: ImportedContent, source: DatasetSource | null): Promise<ImportResult> {
    checkDatasetName(name);
    const hash = content.hash || (await versionHash(content));
    return this.locked(name, async () => {
      const versions = await this.deps.store.listDatasetVersions(name);
      const same = versions.find((d) => d.hash === hash);
      if (same) return { record: same, created: false };
      const latest = versions.at(-1) ?? null;
      const version = (latest?.version ?? 0) + 1;
      const record: DatasetRecord = {
        ...content,
        hash,
        id: formatDatasetRef(name, version),
        name,
        version,
        parent: latest?.id ?? null,
        source,
        createdAt: this.now(),
      };
      try {
        await this.deps.store.putDataset(record);
      } catch (e) {
        // Another coordinator sharing the store numbered a version of this name at the same time.
        if ((await this.deps.store.listDatasetVersions(name)).some((d) => d.version === version))
          throw new GridTabError('CONFLICT', `${record.id} was just created by another import; retry`);
        throw e;
      }
      this.deps.log(
        `datasets: recorded ${record.id} (${record.numTrain} train, ${record.numTest} test rows)`,
      );
      return { record, created: true };
    });
  }

  /** Jobs that train on the version, and the model versions they made. */
  async lineage(id: string): Promise<DatasetLineage> {
    const { store } = this.deps;
    const jobs = (await store.listJobs()).filter((j) => j.spec.dataset === id);
    const models: DatasetLineage['models'] = [];
    for (const job of jobs) {
      const model = await store.registry.getModelByJob(job.id);
      if (!model) continue;
      for (const v of await store.listVersions(job.id))
        models.push({ name: model.name, version: v.round, jobId: job.id, versionId: v.id });
    }
    return { jobs: jobs.map((j) => ({ id: j.id, name: j.name, status: j.status })), models };
  }

  /**
   * Runs `fn` while no deletion of the dataset `ref` names runs in this process: both take the
   * name's lock. Job creation checks that its version still exists and inserts the job inside,
   * so a delete either came first (the job is refused as UNKNOWN_DATASET) or comes after and
   * sees the job (DATASET_IN_USE); never a job on a deleted version whose shards are collected.
   */
  holding<T>(ref: string, fn: () => Promise<T>): Promise<T> {
    return this.locked(parseDatasetRef(ref).name, fn);
  }

  /** Deletes an unused version and the shards no other version shares. */
  async delete(name: string, version: number): Promise<DeleteResult> {
    const record = await this.version(name, version);
    return this.locked(name, async () => {
      const users = (await this.deps.store.listJobs()).filter((j) => j.spec.dataset === record.id);
      if (users.length > 0)
        throw new GridTabError(
          'DATASET_IN_USE',
          `${record.id} is the dataset of job(s) ${users.map((j) => j.id).join(', ')}; it stays for their lineage`,
        );
      await this.deps.store.deleteDataset(record.id);
      // Another coordinator process (which does not share this lock) may have inserted a job on
      // the version between the check and the delete: checked again before any shard goes, and
      // the record put back if one did.
      const late = (await this.deps.store.listJobs()).filter((j) => j.spec.dataset === record.id);
      if (late.length > 0) {
        await this.deps.store.putDataset(record);
        throw new GridTabError(
          'DATASET_IN_USE',
          `${record.id} is the dataset of job(s) ${late.map((j) => j.id).join(', ')}; it stays for their lineage`,
        );
      }
      const { blobsDeleted, bytesFreed } = await this.collect([...record.shardHashes, ...record.testHashes]);
      this.deps.log(`datasets: deleted ${record.id}; ${blobsDeleted} blob(s), ${bytesFreed} bytes freed`);
      return { id: record.id, blobsDeleted, bytesFreed };
    });
  }

  /**
   * Deletes those of `hashes` that no dataset version, model version, update or running import
   * (other than the one whose own blobs `own` lists) references.
   */
  private async collect(hashes: string[], own = new Set<string>()) {
    const { store, blobs } = this.deps;
    const candidates = [...new Set(hashes)].filter(
      (h) => (this.inFlight.get(h) ?? 0) <= (own.has(h) ? 1 : 0),
    );
    if (candidates.length === 0) return { blobsDeleted: 0, bytesFreed: 0 };
    const kept = new Set<string>();
    for (const d of await store.listDatasets())
      for (const h of [...d.shardHashes, ...d.testHashes]) kept.add(h);
    for (const h of await store.blobsInUse(candidates)) kept.add(h);
    let blobsDeleted = 0;
    let bytesFreed = 0;
    for (const h of candidates) {
      if (kept.has(h)) continue;
      const freed = await blobs.delete(h);
      if (freed > 0) blobsDeleted++;
      bytesFreed += freed;
    }
    return { blobsDeleted, bytesFreed };
  }

  /** The importer's blob store: records what it writes and marks it in flight. */
  private recording(written: Set<string>): BlobStore {
    const { blobs } = this.deps;
    const note = (hash: string) => {
      if (!written.has(hash)) {
        written.add(hash);
        this.inFlight.set(hash, (this.inFlight.get(hash) ?? 0) + 1);
      }
      return hash;
    };
    const batch = blobs.batch?.bind(blobs);
    return {
      put: async (bytes) => note(await blobs.put(bytes)),
      batch: batch
        ? () => {
            const b = batch();
            return { put: async (bytes) => note(await b.put(bytes)), commit: b.commit, abort: b.abort };
          }
        : undefined,
      get: (hash) => blobs.get(hash),
      has: (hash) => blobs.has(hash),
      size: (hash) => blobs.size(hash),
      list: () => blobs.list(),
      delete: async () => {
        throw new Error('an importer does not delete blobs');
      },
    };
  }

  private release(hash: string): void {
    const n = (this.inFlight.get(hash) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(hash);
    else this.inFlight.set(hash, n);
  }

  /** Streams the body to `path`, hashing and counting; PAYLOAD_TOO_LARGE past `maxBytes`. */
  private async spool(
    body: WebReadableStream<Uint8Array>,
    path: string,
    maxBytes: number,
    signal?: AbortSignal,
  ) {
    const sha = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.byteLength;
        if (bytes > maxBytes)
          return done(
            new GridTabError(
              'PAYLOAD_TOO_LARGE',
              `the file is over the ${maxBytes}-byte limit on dataset uploads`,
            ),
          );
        sha.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(body), meter, createWriteStream(path), { signal });
    return { bytes, sha256: sha.digest('hex') };
  }

  private async locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(name) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => {});
    this.locks.set(name, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    }
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}
