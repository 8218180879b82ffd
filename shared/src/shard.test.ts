import { describe, expect, it } from 'vitest';
import { decodeShard, encodeShard, imageShard, SHARD_MAGIC_V1 } from './shard.ts';

describe('shard format', () => {
  const images = imageShard({
    count: 3,
    rows: 2,
    cols: 2,
    pixels: Uint8Array.from({ length: 12 }, (_, i) => i * 7),
    labels: Uint8Array.of(4, 0, 9),
  });

  it('round-trips u8 inputs with class labels', () => {
    const back = decodeShard(encodeShard(images));
    expect(back.count).toBe(3);
    expect(back.sampleSize).toBe(4);
    expect(back.x).toBeInstanceOf(Uint8Array);
    expect(Array.from(back.x)).toEqual(Array.from(images.x));
    expect(Array.from(back.y)).toEqual([4, 0, 9]);
  });

  it('round-trips f32 inputs with several regression targets, aligned whatever the input length', () => {
    const shard = {
      count: 3,
      sampleSize: 3,
      x: Float32Array.from({ length: 9 }, (_, i) => i / 3 - 1.5),
      y: Float32Array.of(1.5, -2, 3e6, 0, -1e-3, 42),
      labelWidth: 2,
    };
    const bytes = encodeShard(shard);
    // Decoding from an odd offset, as a shard inside a larger buffer would be.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const back = decodeShard(shifted.subarray(1));
    expect(back.x).toBeInstanceOf(Float32Array);
    expect(Array.from(back.x)).toEqual(Array.from(shard.x));
    expect(back.y).toBeInstanceOf(Float32Array);
    expect(Array.from(back.y)).toEqual(Array.from(shard.y));
    expect(back.labelWidth).toBe(2);
  });

  it('is deterministic: the same samples give the same bytes', () => {
    expect(encodeShard(images)).toEqual(
      encodeShard(
        imageShard({ count: 3, rows: 2, cols: 2, pixels: images.x as Uint8Array, labels: [4, 0, 9] }),
      ),
    );
  });

  it('still reads version 1 shards (u8 images, u8 labels)', () => {
    const v1 = new Uint8Array(16 + 8 + 2);
    const view = new DataView(v1.buffer);
    view.setUint32(0, SHARD_MAGIC_V1, true);
    view.setUint32(4, 2, true);
    view.setUint32(8, 2, true);
    view.setUint32(12, 2, true);
    v1.set([1, 2, 3, 4, 5, 6, 7, 8], 16);
    v1.set([3, 1], 24);
    const back = decodeShard(v1);
    expect(back.sampleSize).toBe(4);
    expect(Array.from(back.x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(back.y)).toEqual([3, 1]);
  });

  it('refuses truncated bytes, a wrong magic, unknown types and mismatched arrays', () => {
    const bytes = encodeShard(images);
    expect(() => decodeShard(bytes.subarray(0, bytes.length - 1))).toThrow(/length/);
    const bad = bytes.slice();
    bad[0] ^= 0xff;
    expect(() => decodeShard(bad)).toThrow(/magic/);
    const badType = bytes.slice();
    badType[12] = 9;
    expect(() => decodeShard(badType)).toThrow(/type/);
    expect(() => decodeShard(new Uint8Array(4))).toThrow(/header/);
    expect(() => encodeShard({ ...images, y: Uint16Array.of(1) })).toThrow();
  });
});
