/**
 * The build pool: a spec built in a worker thread gives the same bytes as in this thread (with
 * seeded initializers, the only case where TF.js's initial weights are reproducible at all);
 * a full queue answers BUSY at once; a build past the timeout ends its worker; a spec TF.js
 * cannot build keeps its INVALID_MODEL_SPEC code across the thread boundary.
 */
import { GridTabError, MODEL_PRESETS } from '@gridtab/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { BuildPool, type BuildPoolOptions } from './build-pool.ts';
import { inThreadBuilder, type Topology } from './model-builder.ts';

/** A preset with every initializer's seed set (and an Orthogonal one, built by a QR in TF.js). */
function seeded(preset: Topology): Topology {
  const spec = structuredClone(preset);
  let seed = 11;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.config && typeof o.config === 'object' && 'seed' in (o.config as object))
        (o.config as Record<string, unknown>).seed = seed++;
      Object.values(o).forEach(visit);
    }
  };
  visit(spec);
  return spec;
}

const OPTIONS: BuildPoolOptions = { workers: 1, queue: 8, timeoutMs: 120_000, heapMb: 512 };
let pool: BuildPool | null = null;
afterEach(async () => {
  await pool?.close();
  pool = null;
});

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e) => (e instanceof GridTabError ? `${e.code}: ${e.message}` : `Error: ${(e as Error).message}`),
  );

describe('build pool', () => {
  it('builds a seeded spec to the same weights, shapes and count as this thread', async () => {
    pool = new BuildPool(OPTIONS);
    for (const preset of [MODEL_PRESETS['fashion-mlp'], MODEL_PRESETS['fashion-cnn-small']]) {
      const topology = seeded(preset as Topology);
      const [there, here] = [
        await pool.run({ kind: 'check', topology }),
        await inThreadBuilder.run({ kind: 'check', topology }),
      ];
      expect(there.params).toBeGreaterThan(0);
      expect([there.inputs, there.outputs, there.params]).toEqual([here.inputs, here.outputs, here.params]);
      expect(Buffer.from(there.weights.buffer).equals(Buffer.from(here.weights.buffer))).toBe(true);
      // The seed is what makes it reproducible: a second build gives the same bytes again.
      const again = await pool.run({ kind: 'check', topology });
      expect(Buffer.from(again.weights.buffer).equals(Buffer.from(there.weights.buffer))).toBe(true);
    }
  }, 180_000);

  it('imports weights through the worker unchanged', async () => {
    pool = new BuildPool(OPTIONS);
    const topology = seeded(MODEL_PRESETS['fashion-mlp'] as Topology);
    const { specs } = await pool.run({ kind: 'weight-specs', topology });
    const n = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const imported = await pool.run({
      kind: 'import',
      topology,
      weightSpecs: specs,
      weightData: values.slice().buffer,
    });
    expect([imported.inputs, imported.outputs, imported.params]).toEqual([1, 1, n]);
    expect(Array.from(imported.weights)).toEqual(Array.from(values));
  }, 180_000);

  it('answers BUSY at once when the queue is full, and still runs what it accepted', async () => {
    pool = new BuildPool({ ...OPTIONS, queue: 1 });
    const topology = MODEL_PRESETS['fashion-mlp'] as Topology;
    const running = pool.run({ kind: 'weight-specs', topology });
    const waiting = pool.run({ kind: 'weight-specs', topology });
    expect(pool.load).toEqual({ running: 1, waiting: 1, workers: 1 });
    expect(await codeOf(pool.run({ kind: 'weight-specs', topology }))).toMatch(/^BUSY: /);
    expect([await codeOf(running), await codeOf(waiting)]).toEqual(['resolved', 'resolved']);
  }, 180_000);

  it('refuses a build past the timeout and ends its worker; the next build gets a fresh one', async () => {
    // 1 ms: no worker even starts TF.js that fast.
    pool = new BuildPool({ ...OPTIONS, timeoutMs: 1 });
    const topology = MODEL_PRESETS['fashion-mlp'] as Topology;
    expect(await codeOf(pool.run({ kind: 'check', topology }))).toBe(
      'INVALID_MODEL_SPEC: building the model took longer than 0 s',
    );
    expect(pool.load).toEqual({ running: 0, waiting: 0, workers: 0 });
    expect(await codeOf(pool.run({ kind: 'check', topology }))).toMatch(/took longer/);
  }, 60_000);

  it('keeps the code of a spec TF.js cannot build', async () => {
    pool = new BuildPool(OPTIONS);
    const topology = {
      class_name: 'Sequential',
      config: { layers: [{ class_name: 'NoSuchLayer', config: { batch_input_shape: [null, 4] } }] },
    };
    expect(await codeOf(pool.run({ kind: 'check', topology }))).toMatch(
      /^INVALID_MODEL_SPEC: the model spec does not build: /,
    );
  }, 180_000);
});
