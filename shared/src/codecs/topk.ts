/**
 * top-k with error feedback (Stich et al. 2018; Lin et al., Deep Gradient Compression): the tab
 * adds the residual it kept from its previous units of the job to the new delta, sends the
 * `fraction` of entries with the largest magnitude, and keeps the rest as the next residual, so
 * nothing is lost, only delayed. The selection is the kernels package's `topKWithFeedback`
 * (our radix select on webgpu, tf.topk elsewhere).
 *
 * Wire: `[length u32, k u32]`, k indices (u32, strictly increasing), k values (f32), little
 * endian. Sorted indices make duplicates and out-of-range entries cheap to refuse.
 */
import { topKWithFeedback } from '@gridtab/kernels';
import * as tf from '@tensorflow/tfjs';
import { aligned, type Codec, CodecError, type CodecState, checkLength } from './codec.ts';

const HEADER = 8;

export class TopKCodec implements Codec {
  readonly name = 'topk';

  constructor(readonly fraction: number) {
    if (!(fraction > 0 && fraction <= 1)) throw new Error(`top-k fraction ${fraction} outside (0, 1]`);
  }

  k(length: number): number {
    return Math.min(length, Math.max(1, Math.ceil(this.fraction * length)));
  }

  async encode(values: Float32Array, state?: CodecState): Promise<Uint8Array> {
    const n = values.length;
    const k = this.k(n);
    // A residual of another length belongs to another model: start afresh rather than mix.
    const previous = state?.residual?.length === n ? state.residual : new Float32Array(n);
    const update = tf.tensor1d(values);
    const residual = tf.tensor1d(previous);
    const picked = await topKWithFeedback(update, residual, k);
    const [indices, picks, next] = await Promise.all([
      picked.indices.data() as Promise<Int32Array>,
      picked.values.data() as Promise<Float32Array>,
      picked.residual.data() as Promise<Float32Array>,
    ]);
    tf.dispose([update, residual, picked.indices, picked.values, picked.residual]);
    if (state) state.residual = next;
    const order = Array.from(indices.keys()).sort((a, b) => indices[a] - indices[b]);
    const out = new Uint8Array(HEADER + 8 * k);
    const view = new DataView(out.buffer);
    view.setUint32(0, n, true);
    view.setUint32(4, k, true);
    order.forEach((j, i) => {
      view.setUint32(HEADER + 4 * i, indices[j], true);
      view.setFloat32(HEADER + 4 * k + 4 * i, picks[j], true);
    });
    return out;
  }

  decode(payload: Uint8Array, expectedLength: number): Float32Array {
    if (payload.byteLength < HEADER) {
      throw new CodecError('malformed', `top-k update has ${payload.byteLength} bytes, less than its header`);
    }
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const length = view.getUint32(0, true);
    const k = view.getUint32(4, true);
    if (k > length) throw new CodecError('malformed', `top-k update sends ${k} entries of ${length}`);
    if (payload.byteLength !== HEADER + 8 * k) {
      throw new CodecError(
        'malformed',
        `top-k update of ${k} entries needs ${HEADER + 8 * k} bytes, has ${payload.byteLength} (truncated or padded)`,
      );
    }
    checkLength('topk', length, expectedLength);
    const body = aligned(payload.subarray(HEADER), 4);
    const idx = new Uint32Array(body.buffer, body.byteOffset, k);
    const vals = new Float32Array(body.buffer, body.byteOffset + 4 * k, k);
    const out = new Float32Array(length);
    let last = -1;
    for (let i = 0; i < k; i++) {
      const at = idx[i];
      if (at <= last || at >= length) {
        throw new CodecError(
          'malformed',
          `top-k index ${at} at position ${i} is out of order or out of range`,
        );
      }
      out[at] = vals[i];
      last = at;
    }
    return out;
  }
}
