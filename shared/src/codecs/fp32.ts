/**
 * fp32: the delta as raw little-endian float32, no header (the wire format of protocol 1, so
 * an fp32 job is what every earlier tab sent). Lossless.
 */
import { aligned, type Codec, CodecError, checkLength } from './codec.ts';

export class Fp32Codec implements Codec {
  readonly name = 'fp32';

  async encode(values: Float32Array): Promise<Uint8Array> {
    return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  }

  decode(payload: Uint8Array, expectedLength: number): Float32Array {
    if (payload.byteLength % 4 !== 0) {
      throw new CodecError('malformed', `fp32 update has ${payload.byteLength} bytes, not a multiple of 4`);
    }
    checkLength('fp32', payload.byteLength / 4, expectedLength);
    const bytes = aligned(payload, 4);
    return new Float32Array(bytes.buffer, bytes.byteOffset, payload.byteLength / 4).slice();
  }
}
