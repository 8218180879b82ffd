/**
 * The first check on an update's bytes, before validation: the payload must be what its meta's
 * checksum says (else CHECKSUM_MISMATCH), in the job's codec, and decode cleanly with it (else
 * UNDECODABLE_UPDATE, or WRONG_SHAPE when it is well formed but holds another number of values).
 * What comes out is plain float32, so validation and every aggregation rule stay codec-blind.
 */
import { type CodecSpec, GridTabError, sha256Hex, type UpdateMeta } from '@gridtab/shared';
import { CodecError, codecFor } from '@gridtab/shared/codecs';

export async function decodeUpdate(
  meta: UpdateMeta,
  payload: Uint8Array,
  codec: CodecSpec,
  paramCount: number,
): Promise<Float32Array> {
  const digest = await sha256Hex(payload);
  if (digest !== meta.checksum) {
    throw new GridTabError(
      'CHECKSUM_MISMATCH',
      `payload sha256 is ${digest.slice(0, 12)}..., the meta says ${meta.checksum.slice(0, 12)}...`,
    );
  }
  if (meta.codec !== codec.name) {
    throw new GridTabError(
      'UNDECODABLE_UPDATE',
      `the update is ${meta.codec}; this job's codec is ${codec.name}`,
    );
  }
  try {
    return codecFor(codec).decode(payload, paramCount);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    throw new GridTabError(e.kind === 'length' ? 'WRONG_SHAPE' : 'UNDECODABLE_UPDATE', e.message);
  }
}
