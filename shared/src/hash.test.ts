import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HASH_PATTERN, sha256Hex } from './hash.ts';

const reference = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
// Sizes around sha256's 64-byte block and its 55/56-byte padding boundary, and a large one.
const samples = [0, 1, 55, 56, 63, 64, 65, 1000, 1 << 20].map((n) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) % 256),
);

describe('sha256Hex', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('matches node:crypto through WebCrypto', async () => {
    expect(globalThis.crypto?.subtle).toBeDefined();
    for (const bytes of samples) expect(await sha256Hex(bytes)).toBe(reference(bytes));
  });

  it('matches node:crypto without crypto.subtle (a page on plain http off localhost)', async () => {
    // What Chromium exposes in an insecure context: getRandomValues, but no subtle.
    vi.stubGlobal('crypto', { getRandomValues: (a: Uint8Array) => a });
    expect(globalThis.crypto.subtle).toBeUndefined();
    for (const bytes of samples) {
      const hex = await sha256Hex(bytes);
      expect(hex).toMatch(HASH_PATTERN);
      expect(hex).toBe(reference(bytes));
    }
    // A view into a larger buffer hashes only its own bytes.
    const backing = Uint8Array.from({ length: 100 }, (_, i) => i);
    expect(await sha256Hex(backing.subarray(10, 40))).toBe(reference(backing.subarray(10, 40)));
  });

  it('works with no crypto global at all', async () => {
    vi.stubGlobal('crypto', undefined);
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
