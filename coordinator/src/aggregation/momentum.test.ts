/**
 * Centered clipping with momentum across rounds: the center starts at the previous round's
 * aggregate step, which is rebuilt from the last two stored versions (so it survives a restart).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobSpecSchema, MODEL_PRESETS } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../storage/blob-store.ts';
import { SqliteStore } from '../storage/sqlite-store.ts';
import type { WeightedUpdate } from './aggregator.ts';
import { CenteredClip } from './centered-clip.ts';
import { aggregationContext } from './history.ts';

const up = (values: number[]): WeightedUpdate => ({ delta: Float32Array.from(values), numSamples: 10 });

describe('centered clipping with momentum', () => {
  it('starts from the previous step: one iteration is prev + mean(clip(x - prev))', () => {
    const prev = Float32Array.of(1, 0);
    const ups = [up([1, 0]), up([1, 0.5]), up([11, 0])];
    const out = new CenteredClip(1, 1).aggregate(new Float32Array(2), ups, { previousStep: prev });
    // Offsets from prev: (0,0), (0,0.5), (10,0) clipped to (1,0); mean (1/3, 1/6).
    expect(out[0]).toBeCloseTo(1 + 1 / 3, 6);
    expect(out[1]).toBeCloseTo(0.5 / 3, 6);
  });

  it('bounds an attacker pulling against the momentum, whatever the honest spread', () => {
    const prev = Float32Array.of(1, -1, 0.5);
    const honest = [up([1, -1, 0.5]), up([1.1, -0.9, 0.4]), up([0.9, -1.1, 0.6]), up([1, -1, 0.5])];
    const out = new CenteredClip(0.2, 3).aggregate(new Float32Array(3), [...honest, up([-100, 100, -50])], {
      previousStep: prev,
    });
    const moved = Math.hypot(out[0] - prev[0], out[1] - prev[1], out[2] - prev[2]);
    expect(moved).toBeLessThanOrEqual(3 * 0.2 + 1e-6); // each iteration moves at most radius
    expect(out[0]).toBeGreaterThan(0.5);
  });

  it('falls back to the median start when the previous step is missing or unusable', () => {
    const ups = [up([1, 2]), up([3, 4]), up([5, 6])];
    const plain = new CenteredClip().aggregate(new Float32Array(2), ups);
    const badLength = new CenteredClip().aggregate(new Float32Array(2), ups, {
      previousStep: Float32Array.of(9),
    });
    const nonFinite = new CenteredClip().aggregate(new Float32Array(2), ups, {
      previousStep: Float32Array.of(Number.NaN, 0),
    });
    expect(Array.from(badLength)).toEqual(Array.from(plain));
    expect(Array.from(nonFinite)).toEqual(Array.from(plain));
  });
});

describe('aggregationContext', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is the base weights minus its parent, read back from a reopened store', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridtab-history-'));
    const blobs = await FileBlobStore.open(join(dir, 'blobs'));
    const w0 = await blobs.put(new Uint8Array(Float32Array.of(1, 2, 3).buffer));
    const w1 = await blobs.put(new Uint8Array(Float32Array.of(1.5, 1, 3).buffer));
    const spec = jobSpecSchema.parse({ name: 'j', model: MODEL_PRESETS['fashion-mlp'], dataset: 'd' });
    const at = '2026-11-24T00:00:00Z';
    const v = (id: string, round: number, hash: string, parentId: string | null) => ({
      id,
      jobId: 'j1',
      round,
      hash,
      parentId,
      numSamples: 0,
      unitIds: [],
      metrics: { testAccuracy: null, testLoss: null },
      createdAt: at,
    });
    const path = join(dir, 'db.sqlite');
    const store = new SqliteStore(path);
    await store.createJob(
      { id: 'j1', name: 'j', spec, status: 'running', round: 0, versionId: null, createdAt: at },
      v('v0', 0, w0, null),
    );
    await store.commitVersion(v('v1', 1, w1, 'v0'), 2, 'running');
    expect(await aggregationContext(store, blobs, 'v0')).toEqual({}); // round 1: no history yet
    store.close();
    const reopened = new SqliteStore(path); // a restarted coordinator
    const { previousStep } = await aggregationContext(reopened, blobs, 'v1');
    expect(Array.from(previousStep!)).toEqual([0.5, -1, 0]);
    reopened.close();
  });
});
