/**
 * Where the SDK keeps what it downloaded: weights by content hash (so a reload or a second tab
 * downloads nothing) and small JSON records (model.json by version, the last version an alias
 * gave), which let a reload start offline. IndexedDB wherever it exists (pages and workers),
 * memory otherwise. Written against raw IndexedDB to keep the SDK free of dependencies.
 */

export interface ModelCache {
  getWeights(hash: string): Promise<Uint8Array | null>;
  putWeights(hash: string, bytes: Uint8Array): Promise<void>;
  getJson<T>(key: string): Promise<T | null>;
  putJson(key: string, value: unknown): Promise<void>;
}

/** Weights of this many versions are kept; older ones are deleted on the next put. */
const KEEP_WEIGHTS = 4;

export class MemoryModelCache implements ModelCache {
  private readonly weights = new Map<string, Uint8Array>();
  private readonly json = new Map<string, unknown>();
  async getWeights(hash: string) {
    return this.weights.get(hash) ?? null;
  }
  async putWeights(hash: string, bytes: Uint8Array) {
    this.weights.delete(hash);
    this.weights.set(hash, bytes);
    for (const k of [...this.weights.keys()].slice(0, Math.max(0, this.weights.size - KEEP_WEIGHTS)))
      this.weights.delete(k);
  }
  async getJson<T>(key: string) {
    return (this.json.get(key) as T | undefined) ?? null;
  }
  async putJson(key: string, value: unknown) {
    this.json.set(key, value);
  }
}

const promised = <T>(req: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

export class IdbModelCache implements ModelCache {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(name = 'gridtab-inference'): Promise<IdbModelCache> {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore('weights', { keyPath: 'hash' }).createIndex('at', 'at');
      req.result.createObjectStore('json');
    };
    return new IdbModelCache(await promised(req));
  }

  private store(name: 'weights' | 'json', mode: IDBTransactionMode = 'readonly') {
    return this.db.transaction(name, mode).objectStore(name);
  }

  async getWeights(hash: string) {
    const e = (await promised(this.store('weights').get(hash))) as { bytes: ArrayBuffer } | undefined;
    return e ? new Uint8Array(e.bytes) : null;
  }

  async putWeights(hash: string, bytes: Uint8Array) {
    const store = this.store('weights', 'readwrite');
    await promised(store.put({ hash, at: Date.now(), bytes: bytes.slice().buffer }));
    const keys = (await promised(this.store('weights').index('at').getAllKeys())) as string[];
    const old = keys.slice(0, Math.max(0, keys.length - KEEP_WEIGHTS)).filter((k) => k !== hash);
    if (old.length) {
      const rw = this.store('weights', 'readwrite');
      await Promise.all(old.map((k) => promised(rw.delete(k))));
    }
  }

  async getJson<T>(key: string) {
    return ((await promised(this.store('json').get(key))) as T | undefined) ?? null;
  }

  async putJson(key: string, value: unknown) {
    await promised(this.store('json', 'readwrite').put(value, key));
  }
}

/** IndexedDB when the environment has it (and it opens), memory otherwise. */
export async function defaultCache(): Promise<ModelCache> {
  if (typeof indexedDB === 'undefined') return new MemoryModelCache();
  try {
    return await IdbModelCache.open();
  } catch {
    return new MemoryModelCache();
  }
}
