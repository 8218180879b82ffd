/**
 * Reassembly of updates sent in pieces (`unit:chunk`), bounded in memory: an upload may not
 * exceed MAX_UPDATE_BYTES, a contributor may have only a few open at once, all open uploads
 * together stay under a cap, and an upload idle past its time-to-live is dropped. Nothing here
 * touches the store: `take` hands back the whole verified update, and the scheduler's usual
 * checks run on it as on a single-message update.
 */
import { type ChunkHeader, GridTabError, sha256Hex } from '@gridtab/shared';
import type { Clock } from '../clock.ts';

export interface ChunkLimits {
  maxUploadBytes: number;
  maxOpenPerOwner: number;
  maxTotalBytes: number;
  ttlMs: number;
}

interface Upload {
  owner: string;
  header: Omit<ChunkHeader, 'index'>;
  pieces: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  touched: number;
}

export class ChunkAssembler {
  private readonly uploads = new Map<string, Upload>();
  private total = 0;

  constructor(
    private readonly limits: ChunkLimits,
    private readonly clock: Clock,
  ) {}

  /** Bytes held by open uploads (for tests and metrics). */
  get heldBytes(): number {
    return this.total;
  }

  add(owner: string, header: ChunkHeader, bytes: Uint8Array): { received: number } {
    this.sweep();
    const key = `${owner}/${header.uploadId}`;
    const existing = this.uploads.get(key);
    let upload = existing;
    if (!upload) {
      if (header.totalBytes > this.limits.maxUploadBytes)
        throw new GridTabError(
          'PAYLOAD_TOO_LARGE',
          `updates are limited to ${this.limits.maxUploadBytes} bytes`,
        );
      const open = [...this.uploads.values()].filter((u) => u.owner === owner).length;
      if (open >= this.limits.maxOpenPerOwner)
        throw new GridTabError(
          'PAYLOAD_TOO_LARGE',
          `at most ${this.limits.maxOpenPerOwner} uploads may be open at once`,
        );
      const { index: _, ...rest } = header;
      upload = { owner, header: rest, pieces: new Array(header.count), received: 0, bytes: 0, touched: 0 };
    }
    const h = upload.header;
    if (h.count !== header.count || h.totalBytes !== header.totalBytes || h.sha256 !== header.sha256)
      throw new GridTabError(
        'BAD_REQUEST',
        'the piece does not match its upload (count, totalBytes or sha256)',
      );
    if (upload.pieces[header.index])
      throw new GridTabError('CHUNK_DUPLICATE', `piece ${header.index} was already received`);
    if (upload.bytes + bytes.byteLength > h.totalBytes)
      throw new GridTabError(
        'PAYLOAD_TOO_LARGE',
        `the pieces add up to more than the upload's ${h.totalBytes} bytes`,
      );
    if (this.total + bytes.byteLength > this.limits.maxTotalBytes)
      throw new GridTabError(
        'PAYLOAD_TOO_LARGE',
        'the coordinator holds too many partial uploads; retry later',
      );
    // Only a piece that passed every check opens an upload.
    if (!existing) this.uploads.set(key, upload);
    // Copied: socket.io may hand a view into a larger pooled buffer.
    upload.pieces[header.index] = bytes.slice();
    upload.received++;
    upload.bytes += bytes.byteLength;
    upload.touched = this.clock.now();
    this.total += bytes.byteLength;
    return { received: upload.received };
  }

  /** The whole update, once every piece is in and it matches its sha256; the upload is closed. */
  async take(owner: string, uploadId: string): Promise<Uint8Array> {
    this.sweep();
    const key = `${owner}/${uploadId}`;
    const upload = this.uploads.get(key);
    if (!upload) throw new GridTabError('UPLOAD_UNKNOWN', `no open upload ${uploadId}`);
    const missing: number[] = [];
    for (let i = 0; i < upload.pieces.length && missing.length < 20; i++)
      if (!upload.pieces[i]) missing.push(i);
    if (missing.length > 0)
      throw new GridTabError('CHUNK_MISSING', `upload ${uploadId} lacks pieces ${missing.join(', ')}`);
    this.close(key, upload);
    if (upload.bytes !== upload.header.totalBytes)
      throw new GridTabError(
        'BAD_REQUEST',
        `the pieces add up to ${upload.bytes} bytes, not ${upload.header.totalBytes}`,
      );
    const whole = new Uint8Array(upload.bytes);
    let at = 0;
    for (const p of upload.pieces as Uint8Array[]) {
      whole.set(p, at);
      at += p.byteLength;
    }
    if ((await sha256Hex(whole)) !== upload.header.sha256)
      throw new GridTabError('CHECKSUM_MISMATCH', `upload ${uploadId} does not match its sha256`);
    return whole;
  }

  private close(key: string, upload: Upload): void {
    this.uploads.delete(key);
    this.total -= upload.bytes;
  }

  /** Drops uploads idle past their time-to-live (a tab that left halfway). */
  sweep(): void {
    const now = this.clock.now();
    for (const [key, u] of this.uploads) if (now - u.touched > this.limits.ttlMs) this.close(key, u);
  }
}
