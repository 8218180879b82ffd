import { describe, expect, it } from 'vitest';
import { decodeShard, encodeShard } from './shard.ts';

describe('shard format', () => {
  const shard = {
    count: 3,
    rows: 2,
    cols: 2,
    pixels: Uint8Array.from({ length: 12 }, (_, i) => i * 7),
    labels: Uint8Array.of(4, 0, 9),
  };

  it('round-trips', () => {
    const back = decodeShard(encodeShard(shard));
    expect(back.count).toBe(3);
    expect(Array.from(back.pixels)).toEqual(Array.from(shard.pixels));
    expect(Array.from(back.labels)).toEqual([4, 0, 9]);
  });

  it('refuses truncated bytes, a wrong magic and mismatched arrays', () => {
    const bytes = encodeShard(shard);
    expect(() => decodeShard(bytes.subarray(0, bytes.length - 1))).toThrow(/length/);
    const bad = bytes.slice();
    bad[0] ^= 0xff;
    expect(() => decodeShard(bad)).toThrow(/magic/);
    expect(() => decodeShard(new Uint8Array(4))).toThrow(/header/);
    expect(() => encodeShard({ ...shard, labels: Uint8Array.of(1) })).toThrow();
  });
});
