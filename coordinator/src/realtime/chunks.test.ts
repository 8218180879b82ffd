import { sha256Hex } from '@gridtab/shared';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { ChunkAssembler } from './chunks.ts';

const limits = { maxUploadBytes: 1000, maxOpenPerOwner: 2, maxTotalBytes: 1500, ttlMs: 10_000 };

async function pieces(size: number, count: number) {
  const whole = Uint8Array.from({ length: size }, (_, i) => (i * 7) % 251);
  const sha256 = await sha256Hex(whole);
  const per = Math.ceil(size / count);
  const parts = Array.from({ length: count }, (_, i) => whole.slice(i * per, (i + 1) * per));
  const header = (uploadId: string, index: number) => ({ uploadId, index, count, totalBytes: size, sha256 });
  return { whole, parts, header };
}

describe('ChunkAssembler', () => {
  it('reassembles pieces sent in any order and frees their memory', async () => {
    const a = new ChunkAssembler(limits, new ManualClock());
    const { whole, parts, header } = await pieces(900, 3);
    for (const i of [2, 0, 1]) a.add('c1', header('upload-1', i), parts[i]);
    expect(a.heldBytes).toBe(900);
    expect(Array.from(await a.take('c1', 'upload-1'))).toEqual(Array.from(whole));
    expect(a.heldBytes).toBe(0);
    await expect(a.take('c1', 'upload-1')).rejects.toMatchObject({ code: 'UPLOAD_UNKNOWN' });
  });

  it('names missing pieces, refuses duplicates, and keeps uploads per contributor', async () => {
    const a = new ChunkAssembler(limits, new ManualClock());
    const { parts, header } = await pieces(600, 3);
    a.add('c1', header('upload-2', 0), parts[0]);
    expect(() => a.add('c1', header('upload-2', 0), parts[0])).toThrow(
      expect.objectContaining({ code: 'CHUNK_DUPLICATE' }),
    );
    await expect(a.take('c1', 'upload-2')).rejects.toMatchObject({
      code: 'CHUNK_MISSING',
      message: expect.stringContaining('1, 2'),
    });
    await expect(a.take('c2', 'upload-2')).rejects.toMatchObject({ code: 'UPLOAD_UNKNOWN' });
  });

  it('refuses oversized uploads and pieces, too many open uploads, and a full coordinator', async () => {
    const a = new ChunkAssembler(limits, new ManualClock());
    const big = await pieces(1001, 2);
    expect(() => a.add('c1', big.header('upload-3', 0), big.parts[0])).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    );
    const { parts, header } = await pieces(800, 2);
    // A piece bigger than the rest of its upload.
    expect(() => a.add('c1', header('upload-4', 0), new Uint8Array(801))).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    );
    a.add('c1', header('upload-5', 0), parts[0]);
    a.add('c1', header('upload-6', 0), parts[0]);
    expect(() => a.add('c1', header('upload-6b', 0), parts[0])).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    );
    a.add('c2', header('upload-7', 0), parts[0]); // 1200 held
    expect(() => a.add('c2', header('upload-7', 1), parts[1])).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    );
    expect(a.heldBytes).toBeLessThanOrEqual(limits.maxTotalBytes);
  });

  it('refuses pieces that disagree with their upload and a corrupted whole', async () => {
    const a = new ChunkAssembler(limits, new ManualClock());
    const { parts, header } = await pieces(600, 2);
    a.add('c1', header('upload-9', 0), parts[0]);
    expect(() => a.add('c1', { ...header('upload-9', 1), count: 3 }, parts[1])).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
    const flipped = parts[1].slice();
    flipped[0] ^= 1;
    a.add('c1', header('upload-9', 1), flipped);
    await expect(a.take('c1', 'upload-9')).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(a.heldBytes).toBe(0);
  });

  it('drops uploads idle past their time-to-live', async () => {
    const clock = new ManualClock();
    const a = new ChunkAssembler(limits, clock);
    const { parts, header } = await pieces(600, 2);
    a.add('c1', header('upload-10', 0), parts[0]);
    clock.advance(10_001);
    await expect(a.take('c1', 'upload-10')).rejects.toMatchObject({ code: 'UPLOAD_UNKNOWN' });
    expect(a.heldBytes).toBe(0);
  });
});
