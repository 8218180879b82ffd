/**
 * Where a contributor keeps content-addressed bytes (shards, weights): IndexedDB in a browser,
 * memory in Node. Everything is keyed by sha256, so a cached entry is valid forever; only
 * weights are pruned, because every round makes new ones. Beside the blobs, a small keyed state
 * store holds what a reloaded tab needs to carry on (resume.ts): codec residuals per job and the
 * unit in progress. State values are structured-clone data (plain objects, typed arrays).
 */
import { type IDBPDatabase, openDB } from 'idb';

export type BlobKind = 'shard' | 'weights';

export interface BlobCache {
  get(hash: string): Promise<Uint8Array | null>;
  put(hash: string, kind: BlobKind, bytes: Uint8Array): Promise<void>;
  /** Keeps the newest `keep` weights; shards stay. */
  pruneWeights(keep: number): Promise<void>;
  getState<T>(key: string): Promise<T | null>;
  putState(key: string, value: unknown): Promise<void>;
  deleteState(key: string): Promise<void>;
}

interface Entry {
  hash: string;
  kind: BlobKind;
  bytes: ArrayBuffer;
  at: number;
}

export class MemoryCache implements BlobCache {
  private readonly entries = new Map<string, Entry>();
  private readonly state = new Map<string, unknown>();
  private seq = 0;

  // Cloned both ways, as IndexedDB does: a caller never shares memory with what is stored.
  async getState<T>(key: string) {
    return this.state.has(key) ? (structuredClone(this.state.get(key)) as T) : null;
  }

  async putState(key: string, value: unknown) {
    this.state.set(key, structuredClone(value));
  }

  async deleteState(key: string) {
    this.state.delete(key);
  }

  async get(hash: string) {
    const e = this.entries.get(hash);
    return e ? new Uint8Array(e.bytes) : null;
  }

  async put(hash: string, kind: BlobKind, bytes: Uint8Array) {
    this.entries.set(hash, { hash, kind, bytes: bytes.slice().buffer, at: ++this.seq });
  }

  async pruneWeights(keep: number) {
    const weights = [...this.entries.values()]
      .filter((e) => e.kind === 'weights')
      .sort((a, b) => b.at - a.at);
    for (const e of weights.slice(keep)) this.entries.delete(e.hash);
  }
}

export class IdbCache implements BlobCache {
  private constructor(private readonly db: IDBPDatabase) {}

  static async open(name = 'gridtab'): Promise<IdbCache> {
    const db = await openDB(name, 2, {
      upgrade(db, oldVersion) {
        if (oldVersion < 1) {
          const store = db.createObjectStore('blobs', { keyPath: 'hash' });
          store.createIndex('kind', 'kind');
        }
        // Version 2: resume state (residuals, the unit in progress), keyed by name.
        if (oldVersion < 2) db.createObjectStore('state');
      },
    });
    return new IdbCache(db);
  }

  async getState<T>(key: string) {
    return ((await this.db.get('state', key)) as T | undefined) ?? null;
  }

  async putState(key: string, value: unknown) {
    await this.db.put('state', value, key);
  }

  async deleteState(key: string) {
    await this.db.delete('state', key);
  }

  async get(hash: string) {
    const e = (await this.db.get('blobs', hash)) as Entry | undefined;
    return e ? new Uint8Array(e.bytes) : null;
  }

  async put(hash: string, kind: BlobKind, bytes: Uint8Array) {
    const entry: Entry = { hash, kind, bytes: bytes.slice().buffer, at: Date.now() };
    await this.db.put('blobs', entry);
  }

  async pruneWeights(keep: number) {
    const weights = ((await this.db.getAllFromIndex('blobs', 'kind', 'weights')) as Entry[]).sort(
      (a, b) => b.at - a.at,
    );
    const tx = this.db.transaction('blobs', 'readwrite');
    await Promise.all([...weights.slice(keep).map((e) => tx.store.delete(e.hash)), tx.done]);
  }
}
