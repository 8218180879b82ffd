/**
 * The Codec interface: how a tab's update (a flat float32 delta) travels on the wire, chosen per
 * job. Every codec decodes on the coordinator into plain float32 values before validation, so
 * shape, finiteness and norm checks and every aggregation rule see the same thing whatever the
 * wire format. Every codec runs the shared suite in codec.case.ts.
 *
 * Decoding is a trust boundary: a payload comes from a tab, so `decode` checks every length and
 * index before reading and throws a CodecError instead of reading garbage.
 */

/** A stateful codec's memory, kept by the tab per job across units (top-k's error feedback). */
export interface CodecState {
  residual: Float32Array | null;
}

export interface Codec {
  readonly name: string;
  /** Encodes `values`; codecs with error feedback read and update `state`. */
  encode(values: Float32Array, state?: CodecState): Promise<Uint8Array>;
  /** Decodes a payload that should hold `expectedLength` values; throws CodecError otherwise. */
  decode(payload: Uint8Array, expectedLength: number): Float32Array;
}

/**
 * `length`: the payload is well formed but holds another number of values than the model has
 * (the coordinator answers WRONG_SHAPE); `malformed`: it cannot be read at all (truncated,
 * inconsistent header, index out of range).
 */
export class CodecError extends Error {
  constructor(
    readonly kind: 'malformed' | 'length',
    message: string,
  ) {
    super(message);
    this.name = 'CodecError';
  }
}

/**
 * Copies into a fresh buffer when needed: typed-array views need offsets on their stride, and
 * socket.io hands payloads over as Node Buffers cut from a shared pool at any offset. Not
 * `payload.slice()`: on a Buffer that is a view of the same memory, not a copy.
 */
export function aligned(payload: Uint8Array, stride: number): Uint8Array {
  if (payload.byteOffset % stride === 0) return payload;
  const copy = new Uint8Array(payload.byteLength);
  copy.set(payload);
  return copy;
}

export function checkLength(codec: string, found: number, expected: number): void {
  if (found !== expected) {
    throw new CodecError('length', `${codec} update holds ${found} values; the model has ${expected}`);
  }
}
