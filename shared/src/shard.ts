/**
 * Binary shard format: samples of any input shape with class labels or numeric targets.
 * Shards are content-addressed by the sha256 of these bytes, so the encoding is deterministic.
 *
 * Version 2 ("GTS2"), little-endian:
 *   0  u32 magic            16 u32 label type (1 = u16 class index, 2 = f32 targets)
 *   4  u32 count            20 u32 values per label (1 for classes, targets for regression)
 *   8  u32 values per sample
 *   12 u32 input type (1 = u8, 2 = f32)
 *   24 inputs, count x values per sample, then zero padding to a multiple of 4, then labels.
 * Version 1 ("GTSH": u8 images and u8 labels, 16-byte header) is still read, so stores made
 * before datasets had versions keep working.
 */
export const SHARD_MAGIC_V1 = 0x48535447; // "GTSH" read as little-endian u32
export const SHARD_MAGIC = 0x32535447; // "GTS2"
const HEADER = 24;

export interface Shard {
  count: number;
  /** Input values per sample (the product of the input shape). */
  sampleSize: number;
  /** Inputs, row-major: count x sampleSize. */
  x: Uint8Array | Float32Array;
  /** Classification: one class index per sample (Uint16Array). Regression: count x labelWidth targets. */
  y: Uint16Array | Float32Array;
  /** Values per label: 1 for a class index, the number of targets for regression. */
  labelWidth: number;
}

const pad4 = (n: number) => (n + 3) & ~3;

export function encodeShard(shard: Shard): Uint8Array {
  const { count, sampleSize, x, y, labelWidth } = shard;
  if (x.length !== count * sampleSize || y.length !== count * labelWidth) {
    throw new Error(
      `shard arrays do not match count ${count}, ${sampleSize} values a sample, ${labelWidth} a label`,
    );
  }
  if (y instanceof Uint16Array && labelWidth !== 1) throw new Error('class labels have one value a sample');
  const xBytes = x.byteLength;
  const yOffset = HEADER + pad4(xBytes);
  const out = new Uint8Array(yOffset + y.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, SHARD_MAGIC, true);
  view.setUint32(4, count, true);
  view.setUint32(8, sampleSize, true);
  view.setUint32(12, x instanceof Uint8Array ? 1 : 2, true);
  view.setUint32(16, y instanceof Uint16Array ? 1 : 2, true);
  view.setUint32(20, labelWidth, true);
  out.set(new Uint8Array(x.buffer, x.byteOffset, xBytes), HEADER);
  // Typed arrays are little-endian on every platform a browser or Node runs on.
  out.set(new Uint8Array(y.buffer, y.byteOffset, y.byteLength), yOffset);
  return out;
}

/** Copies into a fresh, aligned buffer (shard bytes may start at any offset). */
function aligned(bytes: Uint8Array, start: number, length: number): ArrayBuffer {
  return bytes.slice(start, start + length).buffer;
}

export function decodeShard(bytes: Uint8Array): Shard {
  if (bytes.byteLength < 16) throw new Error('shard shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic === SHARD_MAGIC_V1) {
    const count = view.getUint32(4, true);
    const sampleSize = view.getUint32(8, true) * view.getUint32(12, true);
    if (bytes.byteLength !== 16 + count * sampleSize + count)
      throw new Error('shard length does not match its header');
    return {
      count,
      sampleSize,
      x: bytes.subarray(16, 16 + count * sampleSize),
      y: Uint16Array.from(bytes.subarray(16 + count * sampleSize)),
      labelWidth: 1,
    };
  }
  if (magic !== SHARD_MAGIC) throw new Error('not a GridTab shard (bad magic)');
  if (bytes.byteLength < HEADER) throw new Error('shard shorter than its header');
  const count = view.getUint32(4, true);
  const sampleSize = view.getUint32(8, true);
  const xType = view.getUint32(12, true);
  const yType = view.getUint32(16, true);
  const labelWidth = view.getUint32(20, true);
  if ((xType !== 1 && xType !== 2) || (yType !== 1 && yType !== 2))
    throw new Error('shard has an unknown value type');
  if (yType === 1 && labelWidth !== 1) throw new Error('shard class labels must have one value a sample');
  const xBytes = count * sampleSize * (xType === 1 ? 1 : 4);
  const yOffset = HEADER + pad4(xBytes);
  const yBytes = count * labelWidth * (yType === 1 ? 2 : 4);
  if (bytes.byteLength !== yOffset + yBytes) throw new Error('shard length does not match its header');
  return {
    count,
    sampleSize,
    x:
      xType === 1
        ? bytes.subarray(HEADER, HEADER + xBytes)
        : new Float32Array(aligned(bytes, HEADER, xBytes)),
    y:
      yType === 1
        ? new Uint16Array(aligned(bytes, yOffset, yBytes))
        : new Float32Array(aligned(bytes, yOffset, yBytes)),
    labelWidth,
  };
}

/** A shard of u8 images (count x rows x cols x channels) with class labels, as IDX files hold them. */
export function imageShard(images: {
  count: number;
  rows: number;
  cols: number;
  channels?: number;
  pixels: Uint8Array;
  labels: ArrayLike<number>;
}): Shard {
  return {
    count: images.count,
    sampleSize: images.rows * images.cols * (images.channels ?? 1),
    x: images.pixels,
    y: Uint16Array.from(images.labels),
    labelWidth: 1,
  };
}
