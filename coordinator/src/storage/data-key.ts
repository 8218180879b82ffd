/**
 * The keys that encrypt blobs at rest (storage/encrypted-blob-store.ts), from the environment:
 * DATA_KEY or DATA_KEY_FILE (the current key, 32 bytes as base64 or hex) and DATA_KEY_PREVIOUS
 * (older keys still readable until `gridtab rotate-key` has re-encrypted everything). Unset:
 * blobs are stored in clear, as before.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface DataKey {
  /** 4 bytes naming the key in each blob's header; derived from the key, reveals nothing of it. */
  id: Buffer;
  /** 32 bytes of AES-256 key. */
  key: Buffer;
}

export interface DataKeys {
  /** Encrypts every new blob. */
  current: DataKey;
  /** Decrypts blobs written before a rotation. */
  previous: DataKey[];
}

export const DATA_KEY_ENV_HELP: [string, string][] = [
  ['DATA_KEY', 'encrypt blobs at rest with AES-256-GCM: 32 bytes as base64 or hex (default: unencrypted)'],
  ['DATA_KEY_FILE', 'file holding DATA_KEY instead of the environment (e.g. a mounted secret)'],
  ['DATA_KEY_PREVIOUS', "comma-separated older keys still read until 'gridtab rotate-key' has run"],
];

export function keyId(key: Buffer): Buffer {
  // An HMAC, not a plain hash of the key, so the id is no shortcut to guessing the key.
  return createHmac('sha256', key).update('gridtab data key id').digest().subarray(0, 4);
}

/** Parses one key; `what` names it in the error (never the value). */
export function parseDataKey(text: string, what: string): DataKey {
  const t = text.trim();
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t))
    key = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
  if (key?.length !== 32)
    throw new Error(
      `${what} must be 32 bytes as 64 hex digits or 44 base64 characters (make one with: openssl rand -base64 32)`,
    );
  return { id: keyId(key), key };
}

export function dataKeysFromEnv(env: NodeJS.ProcessEnv): DataKeys | null {
  if (env.DATA_KEY && env.DATA_KEY_FILE) throw new Error('DATA_KEY and DATA_KEY_FILE: set one, not both');
  let text = env.DATA_KEY || null;
  if (env.DATA_KEY_FILE) {
    try {
      text = readFileSync(env.DATA_KEY_FILE, 'utf8');
    } catch (e) {
      throw new Error(`DATA_KEY_FILE ${env.DATA_KEY_FILE} could not be read: ${(e as Error).message}`);
    }
  }
  const previousTexts = (env.DATA_KEY_PREVIOUS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (text === null) {
    if (previousTexts.length)
      throw new Error('DATA_KEY_PREVIOUS needs DATA_KEY (or DATA_KEY_FILE) beside it');
    return null;
  }
  const current = parseDataKey(text, env.DATA_KEY_FILE ? 'DATA_KEY_FILE' : 'DATA_KEY');
  const previous = previousTexts.map((t, i) => parseDataKey(t, `DATA_KEY_PREVIOUS[${i}]`));
  return { current, previous };
}
