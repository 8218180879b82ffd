/**
 * Updates in each codec through the scheduler: decoded before validation and stored as float32,
 * and a payload that is corrupted, truncated or in another codec refused with its code before
 * anything is stored.
 */
import type { CodecSpec, UpdateMeta } from '@gridtab/shared';
import { codecFor } from '@gridtab/shared/codecs';
import { bytesToFloat32 } from '@gridtab/shared/tf';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { addJob, startTestCoordinator, type TestCoordinator, updateMetaFor } from '../testing.ts';

const PARAMS = 101_770; // the MLP preset

function delta(): Float32Array {
  return Float32Array.from({ length: PARAMS }, (_, i) => Math.sin(i) * 1e-3);
}

describe('scheduler with codecs', () => {
  let co: TestCoordinator;
  const clock = new ManualClock();
  afterEach(async () => co?.destroy());

  const specs: CodecSpec[] = [
    { name: 'fp16' },
    { name: 'int8', blockSize: 256 },
    { name: 'topk', fraction: 0.1 },
  ];
  for (const spec of specs) {
    it(`accepts a ${spec.name} update and stores it decoded`, async () => {
      co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
      const job = await addJob(co, { codec: spec });
      const unit = (await co.scheduler.requestUnit('a')).unit!;
      expect(unit.codec).toEqual(spec);
      const codec = codecFor(spec);
      const payload = await codec.encode(delta(), { residual: null });
      expect(payload.byteLength).toBeLessThan(PARAMS * 4);
      await co.scheduler.submit('a', updateMetaFor(unit, payload), payload);
      const [stored] = await co.store.listUpdates(job.id, 1);
      const values = bytesToFloat32((await co.blobs.get(stored.blobHash))!);
      expect(Array.from(values)).toEqual(Array.from(codec.decode(payload, PARAMS)));
    });
  }

  it('refuses a corrupted, truncated, foreign-codec or wrong-length payload and stores nothing', async () => {
    co = await startTestCoordinator({ tickMs: 1e9 }, { clock });
    const job = await addJob(co, { codec: { name: 'int8', blockSize: 256 } });
    const unit = (await co.scheduler.requestUnit('a')).unit!;
    const payload = await codecFor(unit.codec).encode(delta());
    const flipped = payload.slice();
    flipped[100] ^= 1;
    const refuse = async (p: Uint8Array, m: UpdateMeta) =>
      co.scheduler.submit('a', m, p).then(
        () => 'accepted',
        (e) => e.code,
      );
    // The meta's checksum is of the payload as sent; one bit changed on the way is caught.
    expect(await refuse(flipped, updateMetaFor(unit, payload))).toBe('CHECKSUM_MISMATCH');
    const cut = payload.subarray(0, payload.length - 3);
    expect(await refuse(cut, updateMetaFor(unit, cut))).toBe('UNDECODABLE_UPDATE');
    const fp32 = new Uint8Array(PARAMS * 4);
    expect(await refuse(fp32, updateMetaFor(unit, fp32, { codec: 'fp32' }))).toBe('UNDECODABLE_UPDATE');
    const short = await codecFor(unit.codec).encode(new Float32Array(PARAMS - 1));
    expect(await refuse(short, updateMetaFor(unit, short))).toBe('WRONG_SHAPE');
    const nan = delta();
    nan[3] = Number.NaN;
    const poisoned = await codecFor(unit.codec).encode(nan);
    expect(await refuse(poisoned, updateMetaFor(unit, poisoned))).toBe('NON_FINITE');
    expect(await co.store.listUpdates(job.id, 1)).toEqual([]);
    expect(await refuse(payload, updateMetaFor(unit, payload))).toBe('accepted');
  });
});
