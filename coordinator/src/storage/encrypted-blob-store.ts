/**
 * Encryption at rest for blobs (shards, weights, updates): a BlobStore over a file or PostgreSQL
 * store that seals every blob with AES-256-GCM under DATA_KEY (storage/data-key.ts). Names stay
 * the sha256 of the plaintext, so caches, dedup and lineage see no difference; `get` checks the
 * plaintext against its name after decrypting, so neither a wrong key nor a swapped blob ever
 * returns wrong bytes.
 *
 * Stored form: MAGIC (4) | format version (1) | key id (4) | nonce (12) | ciphertext | tag (16).
 * The header and the blob's name are the GCM associated data, so neither can be edited or the
 * ciphertext moved to another name unnoticed. A random 96-bit nonce per blob: with 2^32 blobs
 * under one key the chance of a repeat stays below 2^-32 (NIST SP 800-38D's bound).
 *
 * A key check blob (a known plaintext sealed under the key) lets a wrong key fail at start;
 * blobs written before encryption was turned on still read (they must hash to their name) until
 * `gridtab rotate-key` seals them.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type BlobStore, type RawBlobStore, sha256, sha256Async } from './blob-store.ts';
import type { DataKey, DataKeys } from './data-key.ts';

const MAGIC = Buffer.from('GTEB');
const FORMAT_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 1 + 4 + NONCE_BYTES;
/** Bytes a sealed blob has beyond its plaintext. */
export const SEAL_OVERHEAD = HEADER_BYTES + TAG_BYTES;
/** The key check's name: a hash no content is expected to have, hidden from callers. */
export const KEY_CHECK_NAME = sha256(new TextEncoder().encode('gridtab:data-key-check:v1'));
const KEY_CHECK_PLAINTEXT = Buffer.from('GridTab data key check, format 1');

/** A blob whose bytes fail authentication or do not hash to its name. */
export class BlobIntegrityError extends Error {}
/** DATA_KEY does not open this store (start refuses). */
export class DataKeyError extends Error {}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function seal(key: DataKey, name: string, plain: Uint8Array): Uint8Array {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header[MAGIC.length] = FORMAT_VERSION;
  key.id.copy(header, MAGIC.length + 1);
  randomBytes(NONCE_BYTES).copy(header, MAGIC.length + 5);
  const cipher = createCipheriv('aes-256-gcm', key.key, header.subarray(MAGIC.length + 5));
  cipher.setAAD(Buffer.concat([header, Buffer.from(name)]));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/** The key id of a sealed blob, or null when the bytes are not in the sealed form. */
function sealedKeyId(raw: Uint8Array): Buffer | null {
  if (raw.length < SEAL_OVERHEAD || !MAGIC.equals(raw.subarray(0, MAGIC.length))) return null;
  if (raw[MAGIC.length] !== FORMAT_VERSION) return null;
  return Buffer.from(raw.subarray(MAGIC.length + 1, MAGIC.length + 5));
}

/** Decrypts, or returns null when authentication fails. */
function unseal(key: DataKey, name: string, raw: Uint8Array): Uint8Array | null {
  const header = raw.subarray(0, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key.key, header.subarray(MAGIC.length + 5));
  decipher.setAAD(Buffer.concat([header, Buffer.from(name)]));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    const body = raw.subarray(HEADER_BYTES, raw.length - TAG_BYTES);
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch {
    return null;
  }
}

/** Refuses to serve an encrypted store without a key (its blobs would come back as ciphertext). */
export async function assertNotEncrypted(inner: BlobStore): Promise<void> {
  if (await inner.has(KEY_CHECK_NAME))
    throw new DataKeyError('the blob store is encrypted (it holds a key check) but DATA_KEY is not set');
}

export class EncryptedBlobStore implements BlobStore {
  private constructor(
    private readonly inner: RawBlobStore,
    private readonly keys: DataKeys,
  ) {}

  /** Opens the store, checking the key first: a wrong DATA_KEY throws DataKeyError here. */
  static async open(inner: RawBlobStore, keys: DataKeys): Promise<EncryptedBlobStore> {
    const store = new EncryptedBlobStore(inner, keys);
    const check = await inner.get(KEY_CHECK_NAME);
    if (!check) {
      await store.writeKeyCheck();
      return store;
    }
    const id = sealedKeyId(check);
    if (!id) throw new DataKeyError('the blob store key check is unreadable (not in the sealed format)');
    const key = store.keyFor(id);
    if (!key)
      throw new DataKeyError(
        `DATA_KEY does not open this blob store: it was sealed with key id ${hex(id)}, and DATA_KEY is ${hex(keys.current.id)}${keys.previous.length ? `, DATA_KEY_PREVIOUS ${keys.previous.map((k) => hex(k.id)).join(', ')}` : ''}`,
      );
    const plain = unseal(key, KEY_CHECK_NAME, check);
    if (!plain || !KEY_CHECK_PLAINTEXT.equals(plain))
      throw new DataKeyError(
        `the blob store key check does not decrypt under key id ${hex(id)}: wrong key or tampered check`,
      );
    return store;
  }

  private keyFor(id: Uint8Array): DataKey | null {
    return [this.keys.current, ...this.keys.previous].find((k) => k.id.equals(id)) ?? null;
  }

  private writeKeyCheck(): Promise<void> {
    return this.inner.write(KEY_CHECK_NAME, seal(this.keys.current, KEY_CHECK_NAME, KEY_CHECK_PLAINTEXT));
  }

  /** The plaintext of stored bytes, checked against their name. */
  private open(hash: string, raw: Uint8Array): Uint8Array {
    const id = sealedKeyId(raw);
    const key = id && this.keyFor(id);
    const plain = key ? unseal(key, hash, raw) : null;
    if (plain) {
      if (sha256(plain) !== hash)
        throw new BlobIntegrityError(`blob ${hash} decrypts to bytes of another hash`);
      return plain;
    }
    // Not sealed under a key we hold: a blob written before encryption was on reads when it is
    // exactly the content its name says.
    if (sha256(raw) === hash) return raw;
    if (id && !key)
      throw new BlobIntegrityError(`blob ${hash} is sealed with key id ${hex(id)}, which is not configured`);
    throw new BlobIntegrityError(`blob ${hash} fails authentication: tampered or corrupt`);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = await sha256Async(bytes);
    if (!(await this.inner.has(hash))) await this.inner.write(hash, seal(this.keys.current, hash, bytes));
    return hash;
  }

  async get(hash: string): Promise<Uint8Array | null> {
    if (hash === KEY_CHECK_NAME) return null;
    const raw = await this.inner.get(hash);
    return raw && this.open(hash, raw);
  }

  async has(hash: string): Promise<boolean> {
    return hash !== KEY_CHECK_NAME && this.inner.has(hash);
  }

  // Sizes are the plaintext's. A blob from before encryption (until rotate-key) is reported
  // SEAL_OVERHEAD bytes short: reading its header to tell would cost a read per size.
  async delete(hash: string): Promise<number> {
    if (hash === KEY_CHECK_NAME) return 0;
    return plainSize(await this.inner.delete(hash));
  }

  async size(hash: string): Promise<number | null> {
    if (hash === KEY_CHECK_NAME) return null;
    const n = await this.inner.size(hash);
    return n === null ? null : plainSize(n);
  }

  async *list(): AsyncIterable<{ hash: string; bytes: number }> {
    for await (const e of this.inner.list())
      if (e.hash !== KEY_CHECK_NAME) yield { hash: e.hash, bytes: plainSize(e.bytes) };
  }

  /**
   * Re-encrypts every blob not yet under the current key (older keys, or none), each replaced
   * atomically by the inner store, then moves the key check to the current key: after a crash,
   * running it again finishes the job, and until it has, start still demands the old key.
   */
  async rotate(progress?: (done: number) => void): Promise<{ rewritten: number; current: number }> {
    let rewritten = 0;
    let current = 0;
    const hashes: string[] = [];
    for await (const e of this.inner.list()) if (e.hash !== KEY_CHECK_NAME) hashes.push(e.hash);
    for (const hash of hashes) {
      const raw = await this.inner.get(hash);
      if (!raw) continue; // deleted meanwhile
      if (sealedKeyId(raw)?.equals(this.keys.current.id)) current++;
      else {
        await this.inner.write(hash, seal(this.keys.current, hash, this.open(hash, raw)));
        rewritten++;
      }
      progress?.(rewritten + current);
    }
    await this.writeKeyCheck();
    return { rewritten, current };
  }
}

const plainSize = (stored: number) => Math.max(0, stored - SEAL_OVERHEAD);
