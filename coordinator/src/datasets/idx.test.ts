import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx } from './idx.ts';

describe('IDX reader', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);

  it('reads plain and gzipped files to the same array', () => {
    const raw = encodeIdx([2, 3, 4], data);
    for (const bytes of [raw, new Uint8Array(gzipSync(raw))]) {
      const idx = parseIdx(bytes);
      expect(idx.shape).toEqual([2, 3, 4]);
      expect(Array.from(idx.data)).toEqual(Array.from(data));
    }
  });

  it('refuses a file whose data does not match its shape', () => {
    const raw = encodeIdx([2, 3, 4], data);
    expect(() => parseIdx(raw.subarray(0, raw.length - 1))).toThrow(/needs 24/);
  });

  it('refuses non-IDX bytes and unsupported types', () => {
    expect(() => parseIdx(Uint8Array.of(1, 2, 8, 1, 0, 0, 0, 0))).toThrow(/not an IDX file/);
    expect(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 0))).toThrow(/not supported/);
    expect(() => parseIdx(Uint8Array.of(0, 0))).toThrow(/shorter/);
  });
});
