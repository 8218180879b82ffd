/**
 * int8 by block: the kernels package's codec (one float32 scale per block of `blockSize` values,
 * then one signed byte per value), behind an 8-byte header `[length u32, blockSize u32]` so the
 * coordinator can check the payload's layout before reading it. About 4x fewer bytes than fp32;
 * each value is off by at most half its block's scale (max |x| in the block / 254).
 */
import { decodeInt8Host, encodeInt8Host, int8Layout } from '@gridtab/kernels';
import { aligned, type Codec, CodecError, checkLength } from './codec.ts';

const HEADER = 8;

export class Int8Codec implements Codec {
  readonly name = 'int8';

  constructor(readonly blockSize = 256) {
    int8Layout(0, blockSize); // throws on a block size the kernels cannot use
  }

  async encode(values: Float32Array): Promise<Uint8Array> {
    const words = encodeInt8Host(values, this.blockSize);
    const out = new Uint8Array(HEADER + words.byteLength);
    const view = new DataView(out.buffer);
    view.setUint32(0, values.length, true);
    view.setUint32(4, this.blockSize, true);
    out.set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength), HEADER);
    return out;
  }

  decode(payload: Uint8Array, expectedLength: number): Float32Array {
    if (payload.byteLength < HEADER) {
      throw new CodecError('malformed', `int8 update has ${payload.byteLength} bytes, less than its header`);
    }
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const length = view.getUint32(0, true);
    const blockSize = view.getUint32(4, true);
    if (blockSize !== this.blockSize) {
      throw new CodecError(
        'malformed',
        `int8 update uses blocks of ${blockSize}; the job uses ${this.blockSize}`,
      );
    }
    const layout = int8Layout(length, blockSize);
    if (payload.byteLength !== HEADER + layout.words * 4) {
      throw new CodecError(
        'malformed',
        `int8 update of ${length} values needs ${HEADER + layout.words * 4} bytes, has ${payload.byteLength} (truncated or padded)`,
      );
    }
    checkLength('int8', length, expectedLength);
    const body = aligned(payload.subarray(HEADER), 4);
    return decodeInt8Host(new Int32Array(body.buffer, body.byteOffset, layout.words), layout);
  }
}
