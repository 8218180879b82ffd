/**
 * Content addressing: lowercase hex sha256. WebCrypto where the page has it (browsers in a secure
 * context, Node 20); @noble/hashes where it does not, so a tab opened over plain http from another
 * machine (no crypto.subtle there) still hashes and verifies shards and weights.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Browsers hide crypto.subtle outside secure contexts; noble is pure JS, slower but exact.
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return bytesToHex(sha256(bytes));
  const digest = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return bytesToHex(new Uint8Array(digest));
}

export const HASH_PATTERN = /^[0-9a-f]{64}$/;
