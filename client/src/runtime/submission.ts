/**
 * Sending a trained unit's update: encoded in the job's codec (whose memory, top-k's residual,
 * outlives units), checksummed, and sent in one message or, when it would not fit the
 * coordinator's socket message limit, as acknowledged `unit:chunk` pieces and a submit naming
 * the upload. A connection lost while submitting waits for the next join and submits again.
 */
import {
  Disconnected,
  type Result,
  randomId,
  sha256Hex,
  type UpdateAck,
  type UpdateMeta,
  type WorkUnit,
} from '@gridtab/shared';
import { type CodecState, codecFor } from '@gridtab/shared/codecs';
import type { TrainResult } from '@gridtab/shared/trainer';
import type { BlobCache } from './cache.ts';
import type { Connection } from './connection.ts';
import { loadCodecState, saveCodecState } from './resume.ts';

export type SubmitFn = (override?: Partial<UpdateMeta>) => Promise<Result<UpdateAck>>;

export class Submitter {
  /** Per job: the codec's memory across units (top-k's error-feedback residual). */
  private readonly codecStates = new Map<string, CodecState>();

  constructor(
    private readonly connection: Pick<Connection, 'request' | 'joined' | 'maxMessageBytes'>,
    private readonly cache: BlobCache,
    /** False once the runtime stops: a lost connection then ends the submit. */
    private readonly active: () => boolean,
    private readonly log: (msg: string) => void,
  ) {}

  /**
   * Encodes the update and returns the function that sends it (the simulation harness may call
   * it several times, or with a changed meta).
   */
  async prepare(
    unit: WorkUnit,
    result: Pick<TrainResult, 'numSamples' | 'meanLoss' | 'trainMs'>,
    delta: Float32Array,
    backend: UpdateMeta['backend'],
  ): Promise<SubmitFn> {
    const payload = await this.encode(unit, delta);
    const meta: UpdateMeta = {
      leaseId: unit.leaseId,
      unitId: unit.unitId,
      baseVersionId: unit.baseVersionId,
      numSamples: result.numSamples,
      codec: unit.codec.name,
      checksum: await sha256Hex(payload),
      loss: result.meanLoss,
      trainMs: Math.round(result.trainMs),
      backend,
    };
    return async (override = {}) => {
      for (;;) {
        // A reconnect (or a move to another coordinator) in the middle of training: submit
        // once joined again. A new owner that cannot honour the lease refuses, and the unit
        // is dropped by the caller.
        await this.connection.joined;
        try {
          return await this.send({ ...meta, ...override }, payload);
        } catch (e) {
          if (!(e instanceof Disconnected) || !this.active()) throw e;
          this.log(`connection lost while submitting ${unit.unitId}; submitting again once joined`);
        }
      }
    };
  }

  /** One message, or pieces and a submit naming the upload when it would not fit one. */
  private async send(meta: UpdateMeta, payload: Uint8Array): Promise<Result<UpdateAck>> {
    const { connection } = this;
    // Room for the event name, the header and socket.io's framing around the binary piece.
    const pieceBytes = Math.max(1024, Math.floor(connection.maxMessageBytes * 0.9) - 4096);
    if (payload.byteLength <= pieceBytes) {
      return connection.request((s) => s.emitWithAck('unit:submit', meta, payload));
    }
    const uploadId = `up-${randomId()}`;
    const count = Math.ceil(payload.byteLength / pieceBytes);
    for (let index = 0; index < count; index++) {
      const piece = payload.subarray(index * pieceBytes, (index + 1) * pieceBytes);
      const header = { uploadId, index, count, totalBytes: payload.byteLength, sha256: meta.checksum };
      const res = await connection.request((s) => s.emitWithAck('unit:chunk', header, piece));
      if (!res.ok) return res;
    }
    return connection.request((s) => s.emitWithAck('unit:submit', { ...meta, uploadId }, new Uint8Array(0)));
  }

  /**
   * Encodes a delta in the unit's codec. The codec state is per job and outlives units: top-k's
   * residual carries what was not sent into the next unit of the same job. The entries a refused
   * update carried are lost, as a refused fp32 delta is lost entirely.
   */
  private async encode(unit: WorkUnit, delta: Float32Array): Promise<Uint8Array> {
    let state = this.codecStates.get(unit.jobId);
    if (!state) {
      // After a reload the residual comes back from the cache.
      state = await loadCodecState(this.cache, unit.jobId);
      this.codecStates.set(unit.jobId, state);
    }
    const payload = await codecFor(unit.codec).encode(delta, state);
    if (state.residual) await saveCodecState(this.cache, unit.jobId, state);
    return payload;
  }
}
