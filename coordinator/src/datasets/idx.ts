/**
 * Reader for the IDX format (LeCun's MNIST files): a big-endian header with a magic number
 * (two zero bytes, a type code, the number of dimensions), one u32 per dimension, then the
 * data. Files may be gzipped; gzip is detected by its magic bytes, not the file name.
 */
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

const TYPE_UBYTE = 0x08;

export function parseIdx(raw: Uint8Array): IdxArray {
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? new Uint8Array(gunzipSync(raw)) : raw;
  if (bytes.byteLength < 4) throw new Error('IDX file is shorter than its magic number');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0)
    throw new Error('not an IDX file (magic number must start with two zero bytes)');
  const type = view.getUint8(2);
  if (type !== TYPE_UBYTE)
    throw new Error(`IDX type 0x${type.toString(16)} is not supported (only unsigned bytes)`);
  const dims = view.getUint8(3);
  if (dims < 1 || dims > 4) throw new Error(`IDX file has ${dims} dimensions; expected 1 to 4`);
  const headerBytes = 4 + dims * 4;
  if (bytes.byteLength < headerBytes) throw new Error('IDX header is truncated');
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + i * 4));
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== headerBytes + size) {
    throw new Error(
      `IDX data holds ${bytes.byteLength - headerBytes} bytes; its shape ${shape.join('x')} needs ${size}`,
    );
  }
  return { shape, data: bytes.subarray(headerBytes) };
}

/** Writes an IDX (unsigned byte) file; used by tests and by tools that export data. */
export function encodeIdx(shape: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + shape.length * 4 + data.length);
  const view = new DataView(out.buffer);
  view.setUint8(2, TYPE_UBYTE);
  view.setUint8(3, shape.length);
  for (const [i, d] of shape.entries()) view.setUint32(4 + i * 4, d);
  out.set(data, 4 + shape.length * 4);
  return out;
}
