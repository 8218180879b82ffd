/**
 * Binary shard format for image classification data: a 16-byte header (magic "GTSH",
 * count, rows, cols as little-endian u32), then count*rows*cols u8 pixels, then count u8
 * labels. Shards are content-addressed by the sha256 of these bytes.
 */
export const SHARD_MAGIC = 0x48535447; // "GTSH" read as little-endian u32

export interface Shard {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

export function encodeShard(shard: Shard): Uint8Array {
  const { count, rows, cols, pixels, labels } = shard;
  if (pixels.length !== count * rows * cols || labels.length !== count) {
    throw new Error(`shard arrays do not match count ${count} and ${rows}x${cols}`);
  }
  const out = new Uint8Array(16 + pixels.length + labels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, SHARD_MAGIC, true);
  view.setUint32(4, count, true);
  view.setUint32(8, rows, true);
  view.setUint32(12, cols, true);
  out.set(pixels, 16);
  out.set(labels, 16 + pixels.length);
  return out;
}

export function decodeShard(bytes: Uint8Array): Shard {
  if (bytes.byteLength < 16) throw new Error('shard shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== SHARD_MAGIC) throw new Error('not a GridTab shard (bad magic)');
  const count = view.getUint32(4, true);
  const rows = view.getUint32(8, true);
  const cols = view.getUint32(12, true);
  const pixelBytes = count * rows * cols;
  if (bytes.byteLength !== 16 + pixelBytes + count) throw new Error('shard length does not match its header');
  return {
    count,
    rows,
    cols,
    pixels: bytes.subarray(16, 16 + pixelBytes),
    labels: bytes.subarray(16 + pixelBytes),
  };
}
